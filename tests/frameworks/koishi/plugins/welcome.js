// Welcome new group members and answer friend requests, the way Koishi's guide ("事件系统")
// listens to session events: the OneBot adapter turns a `group_increase` notice into
// 'guild-member-added' and a friend request into 'friend-request'.
exports.name = 'welcome'

exports.apply = (ctx) => {
  ctx.on('guild-member-added', async (session) => {
    console.log(`NOTICE guild-member-added ${session.guildId} ${session.userId}`)
    await session.send(`欢迎 ${session.userId}`)
  })

  ctx.on('friend-request', async (session) => {
    console.log(`REQUEST friend ${session.userId} ${session.messageId}`)
    // Koishi's own call for it: bot.handleFriendRequest(messageId, approve, comment).
    await session.bot.handleFriendRequest(session.messageId, true, 'from koishi')
  })
}
