-- ARGV: thread  ->  the identities it had, as member, created_at, member, created_at ...
local thread = ARGV[1]
local ids = {thread}
for _, source in ipairs(redis.call('SMEMBERS', key('merges_into', thread))) do ids[#ids + 1] = source end
local found = {}
for _, id in ipairs(ids) do
  local members = redis.call('ZRANGE', key('identities', id), 0, -1, 'WITHSCORES')
  for i = 1, #members, 2 do
    found[#found + 1] = members[i]; found[#found + 1] = members[i + 1]
    redis.call('DEL', key('identity', members[i]))
    drop_inbox_of(members[i])
  end
  redis.call('DEL', key('identities', id))
  drop_log(id)
  redis.call('DEL', key('thread', id))
  redis.call('ZREM', key('threads'), id)
  redis.call('ZREM', key('wake'), id)
  local into = redis.call('GET', key('merged', id))
  if into then redis.call('SREM', key('merges_into', into), id) end
  redis.call('DEL', key('merged', id), key('merges_into', id))
end
return found
