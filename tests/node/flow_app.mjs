// A KenkoGo app in JavaScript (socket.io-client) that takes part in the message flow.
// Usage: node flow_app.mjs <master url> <app name> <messages to handle>
// Registers for `/js` commands, prints `ready`, then answers each `message` with a reply in its
// ack and, for every second one, a separate `reply` event; prints one JSON line per message and
// exits 0 after the given count; each line carries the arrival `index` (from 1). Any failure
// exits 1 with the reason on stderr.
import { io } from "socket.io-client";

const [url, name, countText] = process.argv.slice(2);
const count = Number(countText);
if (!url || !name || !Number.isInteger(count) || count < 1) {
  console.error("usage: node flow_app.mjs <master url> <app name> <messages to handle>");
  process.exit(1);
}

const STEP_MS = 10000;

function fail(reason) {
  console.error(`node flow app failed: ${reason}`);
  process.exit(1);
}

async function main() {
  const socket = io(`${url}/app`, { transports: ["websocket"], reconnection: false });
  await new Promise((resolve, reject) => {
    socket.once("connect", resolve);
    socket.once("connect_error", (err) => reject(new Error(`connect: ${err.message}`)));
  });
  const ack = await socket.timeout(STEP_MS).emitWithAck("register", {
    name,
    version: "1.0.0",
    subscribe: { commands: ["/js"] },
  });
  if (ack.success !== true) throw new Error(`register refused: ${JSON.stringify(ack)}`);
  let handled = 0;
  const done = new Promise((resolve) => {
    socket.on("message", async (message, answer) => {
      // Arrival order: an even message's handler awaits its reply's ack before printing, so a
      // later message may be printed first.
      const index = ++handled;
      let replied = null;
      if (index % 2 === 0) {
        replied = await socket.timeout(STEP_MS).emitWithAck("reply", {
          message_id: message.id,
          content: `js event reply to ${message.content}`,
        });
      }
      answer({ reply: `js ack reply to ${message.content}` });
      process.stdout.write(JSON.stringify({ index, message, replied }) + "\n");
      if (index === count) setTimeout(resolve, 200);
    });
  });
  process.stdout.write(JSON.stringify({ ready: ack.id }) + "\n");
  const timer = setTimeout(() => fail(`only ${handled} of ${count} messages arrived`), 3 * STEP_MS);
  await done;
  clearTimeout(timer);
  socket.disconnect();
}

main().then(
  () => process.exit(0),
  (err) => fail(err.message),
);
