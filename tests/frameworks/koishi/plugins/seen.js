// Print every message the bot hears, so that a test can tell which ones reached it.
exports.name = 'seen'

exports.apply = (ctx) => {
  ctx.middleware((session, next) => {
    const where = session.guildId || 'private'
    console.log(`SEEN ${session.messageId} ${session.selfId} ${where} ${session.content}`)
    return next()
  }, true)
}
