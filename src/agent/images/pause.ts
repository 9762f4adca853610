// Ordinal's own sandbox (pause) image, built here from bytes so that a machine with only
// containerd, runc and the CNI plugins installed runs pods without reaching any registry (k3s ships
// its own pause image for the same reason).
//
// The program is a static x86-64 Linux ELF of a few hundred bytes, written out instruction by
// instruction: it makes SIGINT and SIGTERM exit 0 (PID 1 of a PID namespace has no default signal
// actions, so without handlers a stop would wait for SIGKILL), ignores SIGCHLD (the kernel then
// reaps orphans that get reparented to it, which is what the upstream pause does by hand), and
// calls pause() forever. Other architectures are refused with a message saying what to do.
import { buildImage, type BuiltImage } from './oci.ts';

/** The name Ordinal's own containerd asks for as its sandbox_image. */
export const ORDINAL_PAUSE_IMAGE = 'ordinal.dev/pause:1';

const LOAD_ADDRESS = 0x400000n;
const ELF_HEADER_SIZE = 64;
const PROGRAM_HEADER_SIZE = 56;

const SYS_RT_SIGACTION = 13;
const SYS_PAUSE = 34;
const SYS_EXIT_GROUP = 231;
const SIGINT = 2;
const SIGTERM = 15;
const SIGCHLD = 17;
const SIG_IGN = 1n;
// x86-64 kernels refuse to deliver a signal to a handler registered without a restorer, even one
// that never returns; the handler's own address serves as one.
const SA_RESTORER = 0x04000000n;

const u16 = (n: number) => Buffer.from([n & 255, (n >> 8) & 255]);
const u32 = (n: number) => {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(n >>> 0);
  return b;
};
const i32 = (n: number) => {
  const b = Buffer.alloc(4);
  b.writeInt32LE(n);
  return b;
};
const u64 = (n: bigint) => {
  const b = Buffer.alloc(8);
  b.writeBigUInt64LE(n);
  return b;
};

/** The machine code and its data for x86-64, placed at `base` (the address of its first byte). */
function x86_64Program(base: bigint): Buffer {
  // Layout: the three rt_sigaction calls, the pause loop, the handler, then two kernel sigaction
  // structs (handler, flags, restorer, mask: 4 × 8 bytes). Offsets are fixed by the sizes below.
  const SIGACTION_CALL = 5 + 5 + 7 + 2 + 6 + 2; // mov eax; mov edi; lea rsi,[rip+x]; xor edx,edx; mov r10d,8; syscall
  const LOOP = 5 + 2 + 2; // mov eax,34; syscall; jmp loop
  const HANDLER = 2 + 5 + 2; // xor edi,edi; mov eax,231; syscall
  const loopAt = 3 * SIGACTION_CALL;
  const handlerAt = loopAt + LOOP;
  const exitActAt = handlerAt + HANDLER;
  const ignoreActAt = exitActAt + 32;
  const handlerAddress = base + BigInt(handlerAt);

  const sigaction = (at: number, signal: number, actAt: number): Buffer => {
    const leaAt = at + 10; // after mov eax and mov edi
    const ripAfterLea = leaAt + 7;
    return Buffer.concat([
      Buffer.from([0xb8]), u32(SYS_RT_SIGACTION), // mov eax, 13
      Buffer.from([0xbf]), u32(signal), // mov edi, signal
      Buffer.from([0x48, 0x8d, 0x35]), i32(actAt - ripAfterLea), // lea rsi, [rip + act]
      Buffer.from([0x31, 0xd2]), // xor edx, edx (no old action wanted)
      Buffer.from([0x41, 0xba]), u32(8), // mov r10d, 8 (sizeof the kernel's sigset)
      Buffer.from([0x0f, 0x05]), // syscall
    ]);
  };
  const code = Buffer.concat([
    sigaction(0, SIGTERM, exitActAt),
    sigaction(SIGACTION_CALL, SIGINT, exitActAt),
    sigaction(2 * SIGACTION_CALL, SIGCHLD, ignoreActAt),
    // loop: pause(); goto loop — pause returns after every handled signal that did not end us.
    Buffer.from([0xb8]), u32(SYS_PAUSE),
    Buffer.from([0x0f, 0x05]),
    Buffer.from([0xeb, (256 - LOOP) & 255]), // jmp rel8 back to loop
    // handler: exit_group(0)
    Buffer.from([0x31, 0xff]),
    Buffer.from([0xb8]), u32(SYS_EXIT_GROUP),
    Buffer.from([0x0f, 0x05]),
    // struct sigaction for SIGINT/SIGTERM
    u64(handlerAddress), u64(SA_RESTORER), u64(handlerAddress), u64(0n),
    // struct sigaction for SIGCHLD
    u64(SIG_IGN), u64(0n), u64(0n), u64(0n),
  ]);
  if (code.length !== ignoreActAt + 32) throw new Error('pause: internal layout error');
  return code;
}

/** A static ELF64 executable: the header, one read+execute PT_LOAD segment mapping the whole file, the program. */
function elf64(machine: number, program: (base: bigint) => Buffer): Buffer {
  const entryOffset = ELF_HEADER_SIZE + PROGRAM_HEADER_SIZE;
  const body = program(LOAD_ADDRESS + BigInt(entryOffset));
  const fileSize = BigInt(entryOffset + body.length);
  const header = Buffer.concat([
    Buffer.from([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1, 0]), // \x7fELF, 64-bit, little-endian, version 1, System V ABI
    Buffer.alloc(8), // ABI version and padding
    u16(2), // ET_EXEC
    u16(machine),
    u32(1), // EV_CURRENT
    u64(LOAD_ADDRESS + BigInt(entryOffset)), // e_entry
    u64(BigInt(ELF_HEADER_SIZE)), // e_phoff
    u64(0n), // e_shoff: no section headers
    u32(0), // e_flags
    u16(ELF_HEADER_SIZE),
    u16(PROGRAM_HEADER_SIZE),
    u16(1), // e_phnum
    u16(64), // e_shentsize
    u16(0), // e_shnum
    u16(0), // e_shstrndx
  ]);
  const programHeader = Buffer.concat([
    u32(1), // PT_LOAD
    u32(5), // PF_R | PF_X
    u64(0n), // p_offset
    u64(LOAD_ADDRESS), // p_vaddr
    u64(LOAD_ADDRESS), // p_paddr
    u64(fileSize), // p_filesz
    u64(fileSize), // p_memsz
    u64(0x1000n), // p_align
  ]);
  return Buffer.concat([header, programHeader, body]);
}

const EM_X86_64 = 62;

/** The pause program for a Node.js architecture name (process.arch); throws with advice on ones it cannot build for. */
export function pauseProgram(arch: string = process.arch): Buffer {
  if (arch === 'x64') return elf64(EM_X86_64, x86_64Program);
  throw new Error(
    `Ordinal's built-in pause image exists for x86-64 only, not ${arch}: import a pause image for this machine ` +
      '(e.g. `ordinal images import pause.tar`) under the name in containerd\'s sandbox_image, or run with --runtime sim',
  );
}

/** The pause image under `ref` (the name containerd's sandbox_image asks for), for this machine's architecture. */
export function pauseImage(ref: string = ORDINAL_PAUSE_IMAGE, arch: string = process.arch): BuiltImage {
  return buildImage({
    ref,
    files: [{ type: 'file', path: 'pause', data: pauseProgram(arch), mode: 0o755 }],
    config: { entrypoint: ['/pause'], env: [], user: '65535:65535' },
  });
}
