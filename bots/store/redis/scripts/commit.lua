-- ARGV: thread, expected version, state, now, wake_at or '', count, events...
local thread, expected, count = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[6])
local version = version_of(thread)
if version ~= expected then
  return {0, 'thread ' .. thread .. ' is at version ' .. version .. ', expected ' .. expected}
end
-- a thread merged away has no log: its id must not come back as a thread of its own
if version == 0 and redis.call('EXISTS', key('merged', thread)) == 1 then
  return {0, 'thread ' .. thread .. ' was merged into another thread'}
end
local dup = duplicate(thread, ARGV, 7, count, true)
if dup then return {0, 'thread ' .. thread .. ' already has an inbound event ' .. dup} end
append(thread, version, ARGV, 7, count)
save(thread, version + count, ARGV[3], nil, ARGV[4], ARGV[5])
return {1, version + count}
