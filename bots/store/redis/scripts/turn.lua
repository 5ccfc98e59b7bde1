-- ARGV: thread, message id, inbound kinds...  ->  {first seq, records} or {}
local thread = ARGV[1]
local seq = redis.call('HGET', key('msgids', thread), ARGV[2])
if not seq then return {} end
seq = tonumber(seq)
local following = nil
for i = 3, #ARGV do
  local after = redis.call('ZRANGEBYSCORE', key('kind', ARGV[i], thread), '(' .. seq, '+inf', 'LIMIT', 0, 1)
  if after[1] and (following == nil or tonumber(after[1]) < following) then following = tonumber(after[1]) end
end
return {seq, redis.call('LRANGE', key('events', thread), seq - 1, following and following - 2 or -1)}
