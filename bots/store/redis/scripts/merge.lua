-- ARGV: into, source, expected into, expected source, state, now, wake_at or '', count, events...
local into, source, count = ARGV[1], ARGV[2], tonumber(ARGV[8])
if into == source or redis.call('EXISTS', key('merged', into), key('merged', source)) > 0 then
  return {0, 'cannot merge ' .. source .. ' into ' .. into .. ': one of them was merged already'}
end
local created = nil
for i, thread in ipairs({into, source}) do
  local row = redis.call('HMGET', key('thread', thread), 'version', 'created_at')
  local version = tonumber(row[1] or '0')
  if version ~= tonumber(ARGV[2 + i]) then
    return {0, 'thread ' .. thread .. ' is at version ' .. version .. ', expected ' .. ARGV[2 + i]}
  end
  if row[2] and (created == nil or tonumber(row[2]) < tonumber(created)) then created = row[2] end
end
local dup = duplicate(into, ARGV, 9, count, false)
if dup then return {0, 'the merged log has the inbound event ' .. dup .. ' twice'} end
drop_log(into)
drop_log(source)
redis.call('DEL', key('thread', source))
redis.call('ZREM', key('threads'), source)
redis.call('ZREM', key('wake'), source)
append(into, 0, ARGV, 9, count)
save(into, count, ARGV[5], created or ARGV[6], ARGV[6], ARGV[7])
local moved = redis.call('ZRANGE', key('identities', source), 0, -1, 'WITHSCORES')
for i = 1, #moved, 2 do put_identity(moved[i], into, moved[i + 1]) end
-- threads merged into the source before now live in ``into`` too
for _, older in ipairs(redis.call('SMEMBERS', key('merges_into', source))) do
  redis.call('SET', key('merged', older), into)
  redis.call('SADD', key('merges_into', into), older)
end
redis.call('DEL', key('merges_into', source))
redis.call('SET', key('merged', source), into)
redis.call('SADD', key('merges_into', into), source)
return {1, count}
