-- ARGV: channel, dedupe key, turn, count  ->  1 when the item is stored (its count is now at least ``count``)
local id = redis.call('HGET', key('inbox_dedupe', ARGV[1]), ARGV[2])
if not id then return 0 end
local sent = key('inbox_sent', id)
if tonumber(redis.call('HGET', sent, ARGV[3]) or '0') < tonumber(ARGV[4]) then
  redis.call('HSET', sent, ARGV[3], ARGV[4])
end
return 1
