// Child entry: the fake OpenAI upstream, in its own process so the load generator does not share its
// event loop. Prints `READY {"url":…}` once listening.
import './guard.js';
import { startFakeOpenAI } from '../testing/fake-openai.js';

const up = await startFakeOpenAI();
// The fake records every request for tests; over a bench run that would be millions of objects.
setInterval(() => { up.requests.length = 0; }, 1_000).unref();
process.stdout.write(`READY ${JSON.stringify({ url: up.url })}\n`);
process.on('SIGTERM', () => { void up.close().finally(() => process.exit(0)); });
process.on('SIGINT', () => process.exit(0));
