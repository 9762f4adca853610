// The Status documents an exec or attach session ends with, on its error channel, as upstream
// writes them: client-go reads Success as a clean exit, Failure/NonZeroExitCode with an ExitCode
// cause as the command's exit code (kubectl: "command terminated with exit code N"), and any other
// Failure as an error whose message it shows.
import { ApiError, internalError } from '../errors.ts';

export type Status = Record<string, unknown>;

export const SUCCESS: Status = { metadata: {}, status: 'Success' };

export function exitCodeStatus(command: string[], code: number): Status {
  return {
    metadata: {},
    status: 'Failure',
    // The runtime's error text (containerd's "error executing command [..], exit code N") behind
    // the kubelet's prefix; Go prints the command slice as [a b c].
    message: `command terminated with non-zero exit code: error executing command [${command.join(' ')}], exit code ${code}`,
    reason: 'NonZeroExitCode',
    details: { causes: [{ reason: 'ExitCode', message: String(code) }] },
  };
}

/** A failure that is not an exit code: the node's ApiError as it is, anything else as an internal error. */
export function errorStatus(err: unknown): Status {
  // The runtime already wrote a Status for the failure (containerd's streaming server): pass it on as it is.
  const fromRuntime = (err as { status?: unknown } | undefined)?.status;
  if (fromRuntime && typeof fromRuntime === 'object' && (fromRuntime as Status).status === 'Failure') {
    const { kind: _k, apiVersion: _v, ...status } = fromRuntime as Status;
    return status;
  }
  const apiErr = err instanceof ApiError ? err : internalError(err);
  const { kind: _k, apiVersion: _v, ...status } = apiErr.toStatus();
  return status;
}

/** Protocols before v4 carry only a failure's message, as plain text, and nothing on success. */
export function legacyStatusText(status: Status): string | undefined {
  return status.status === 'Success' ? undefined : String(status.message ?? 'error');
}
