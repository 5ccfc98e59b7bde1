-- ARGV: channel, (dedupe key, payload, person or '')...  ->  one id per item, 0 where it was stored before
local channel, out = ARGV[1], {}
local dedupe = key('inbox_dedupe', channel)
for i = 2, #ARGV, 3 do
  if redis.call('HEXISTS', dedupe, ARGV[i]) == 1 then
    out[#out + 1] = 0
  else
    local id = redis.call('INCR', key('inbox_seq'))
    redis.call('HSET', dedupe, ARGV[i], id)
    redis.call('HSET', key('inbox_meta'), id, channel .. '\0' .. ARGV[i])
    redis.call('HSET', key('inbox_payload'), id, ARGV[i + 1])
    if ARGV[i + 2] ~= '' then
      redis.call('HSET', key('inbox_person'), id, ARGV[i + 2])
      redis.call('SADD', key('inbox_of', ARGV[i + 2]), id)
    end
    redis.call('ZADD', key('inbox_pending', channel), id, id)
    out[#out + 1] = id
  end
end
return out
