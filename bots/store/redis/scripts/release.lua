-- ARGV: lock key, token
local queue = key('lockq', ARGV[1])
redis.call('DEL', key('lease', ARGV[2]))
redis.call('LREM', queue, 1, ARGV[2])
while true do
  local head = redis.call('LINDEX', queue, 0)
  if not head then return 0 end
  if redis.call('EXISTS', key('lease', head)) == 1 then wake(head); return 1 end
  redis.call('LPOP', queue)
end
