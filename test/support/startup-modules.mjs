// Preloaded (node --import) into an `ordinal` process by test/integration/startup-modules.test.ts:
// when the process prints its "ready at" line, writes one line to stderr listing every module
// loaded so far (file URLs, and Node's internal module list), so the test can tell what a start
// loaded before it was ready. Plain JavaScript, so that it loads no type stripper itself.
import { registerHooks } from 'node:module';

const loaded = [];
registerHooks({
  load(url, context, next) {
    loaded.push(url);
    return next(url, context);
  },
});
const write = process.stdout.write.bind(process.stdout);
process.stdout.write = (chunk, ...rest) => {
  if (String(chunk).includes('ready at')) {
    process.stderr.write(`STARTUP-MODULES ${JSON.stringify({ urls: loaded, internal: process.moduleLoadList })}\n`);
  }
  return write(chunk, ...rest);
};
