-- ARGV: member, a new thread id, now
local found = redis.call('GET', key('identity', ARGV[1]))
if found then return found end
put_identity(ARGV[1], ARGV[2], ARGV[3])
return ARGV[2]
