// The echo command of Koishi's guide ("指令开发"): it answers with what it was given.
exports.name = 'echo'

exports.apply = (ctx) => {
  ctx.command('echo <message:text>', '输出收到的信息')
    .action((_, message) => message)
}
