-- ARGV: now, now - keep_seconds, ids...
for i = 3, #ARGV do
  local meta = redis.call('HGET', key('inbox_meta'), ARGV[i])
  if meta then
    redis.call('ZREM', key('inbox_pending', string.sub(meta, 1, string.find(meta, '\0', 1, true) - 1)), ARGV[i])
    redis.call('ZADD', key('inbox_done'), ARGV[1], ARGV[i])
  end
end
-- processed items are kept a while: Facebook redelivers for up to a day and a half
for _, old in ipairs(redis.call('ZRANGEBYSCORE', key('inbox_done'), '-inf', '(' .. ARGV[2])) do
  drop_inbox_item(old)
end
return 1
