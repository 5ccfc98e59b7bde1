-- ARGV: thread, state, created_at, updated_at, wake_at or '', n, n x (member, created_at), m, m sources,
--       count, events...
local thread = ARGV[1]
if redis.call('EXISTS', key('thread', thread)) == 1 then
  return {0, 'thread ' .. thread .. ' is already in this store'}
end
local people = tonumber(ARGV[6])
local at = 7 + 2 * people
local merged = tonumber(ARGV[at])
local first = at + merged + 2
local count = tonumber(ARGV[first - 1])
local dup = duplicate(thread, ARGV, first, count, false)
if dup then return {0, 'the log has the inbound event ' .. dup .. ' twice'} end
append(thread, 0, ARGV, first, count)
save(thread, count, ARGV[2], ARGV[3], ARGV[4], ARGV[5])
for i = 0, people - 1 do put_identity(ARGV[7 + 2 * i], thread, ARGV[8 + 2 * i]) end
for i = at + 1, at + merged do
  local before = redis.call('GET', key('merged', ARGV[i]))
  if before then redis.call('SREM', key('merges_into', before), ARGV[i]) end
  redis.call('SET', key('merged', ARGV[i]), thread)
  redis.call('SADD', key('merges_into', thread), ARGV[i])
end
return {1, count}
