-- ARGV: nonce, expires_at, now - grace, by
local cutoff = '(' .. ARGV[3]
for _, old in ipairs(redis.call('ZRANGEBYSCORE', key('token_expiry'), '-inf', cutoff)) do
  redis.call('HDEL', key('tokens'), old)
end
redis.call('ZREMRANGEBYSCORE', key('token_expiry'), '-inf', cutoff)
if redis.call('HSETNX', key('tokens'), ARGV[1], ARGV[4]) == 1 then
  redis.call('ZADD', key('token_expiry'), ARGV[2], ARGV[1])
  return 1
end
if ARGV[4] ~= '' and redis.call('HGET', key('tokens'), ARGV[1]) == ARGV[4] then return 1 end
return 0
