// An app in JavaScript: answers `/js <text>` with the text, over socket.io-client.
// Run it with `npm ci && node echo.mjs http://127.0.0.1:17680`.
import { io } from "socket.io-client";

const url = process.argv[2] ?? "http://127.0.0.1:17680";
const socket = io(`${url}/app`, { transports: ["websocket"], auth: { token: process.env.APP_TOKEN } });
let id = null; // the instance id: sent back as `resume` after a reconnect
let beat = null;

socket.on("connect", async () => {
  const ack = await socket.emitWithAck("register", {
    name: "js-echo", version: "1.0.0", subscribe: { commands: ["/js"] }, ...(id && { resume: id }),
  });
  if (!ack.success) throw new Error(`register refused: ${ack.error.code}: ${ack.error.message}`);
  id = ack.id;
  console.log(`registered as ${id} (${ack.state})`);
  clearInterval(beat);
  beat = setInterval(() => socket.emit("heartbeat"), ack.heartbeat_interval * 1000);
});

socket.on("state", ({ state, reason }) => console.log(`now ${state}: ${reason}`));
socket.on("error", (error) => console.error(`the Master says ${error.code}: ${error.message}`));

// The ack answers the message; `reply` is a shortcut for a `reply` event.
socket.on("message", (message, ack) => {
  ack({ reply: `js: ${message.content.slice("/js".length).trim()}` });
});

for (const signal of ["SIGINT", "SIGTERM"]) {
  process.on(signal, () => { clearInterval(beat); socket.disconnect(); });
}
