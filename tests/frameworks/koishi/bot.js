// A Koishi bot as Koishi's documentation writes one ("作为依赖调用", the direct way), with the
// OneBot adapter pointed at the Master as its OneBot v11 implementation. CommonJS, as Koishi's
// template projects are; `.default` is what the guide's `import x from '...'` compiles to.
// Configured through the environment:
//   SELF_ID          the QQ account the bot is (the Master's OneBot driver account)
//   PORT             reverse WebSocket: the Master dials ws://127.0.0.1:PORT/onebot
//   ONEBOT_ENDPOINT  forward WebSocket instead: the bot dials the Master's /onebot/v11/app/ws
//   ONEBOT_TOKEN     the access token, when one is set
const { Context, Universal } = require('koishi')
const http = require('@koishijs/plugin-http').default
const server = require('@koishijs/plugin-server').default
const onebot = require('koishi-plugin-adapter-onebot').default

const ctx = new Context()
// The services a template project's koishi.yml lists first: HTTP requests (the adapter's
// WebSocket client uses it) and, for a reverse WebSocket, the server it listens on.
ctx.plugin(http)

if (process.env.ONEBOT_ENDPOINT) {
  ctx.plugin(onebot, {
    selfId: process.env.SELF_ID,
    protocol: 'ws',
    endpoint: process.env.ONEBOT_ENDPOINT,
    token: process.env.ONEBOT_TOKEN,
  })
} else {
  ctx.plugin(server, { host: '127.0.0.1', port: Number(process.env.PORT) })
  ctx.plugin(onebot, {
    selfId: process.env.SELF_ID,
    protocol: 'ws-reverse',
    path: '/onebot',
    token: process.env.ONEBOT_TOKEN,
  })
}

// One plugin per feature, as a Koishi project grows.
ctx.plugin(require('./plugins/seen'))
ctx.plugin(require('./plugins/echo'))
ctx.plugin(require('./plugins/welcome'))

// Say when the account comes online (Koishi asks the implementation get_login_info first).
ctx.on('login-updated', ({ bot }) => {
  console.log(`LOGIN ${bot.selfId} ${Universal.Status[bot.status].toLowerCase()}`)
})

ctx.start()
