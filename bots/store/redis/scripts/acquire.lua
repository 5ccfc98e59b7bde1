-- ARGV: lock key, token, lease ms  ->  1 when the token is at the head of the queue (the lock is held)
local queue, lease = key('lockq', ARGV[1]), key('lease', ARGV[2])
if redis.call('EXISTS', lease) == 0 then
  -- arriving (or back after being stalled longer than a lease, and maybe dropped): join the queue
  redis.call('SET', lease, '1', 'PX', ARGV[3])
  if not redis.call('LPOS', queue, ARGV[2]) then redis.call('RPUSH', queue, ARGV[2]) end
end
redis.call('PEXPIRE', queue, ARGV[3])
local dropped = false
while true do
  local head = redis.call('LINDEX', queue, 0)
  if head == ARGV[2] then return 1 end
  if redis.call('EXISTS', key('lease', head)) == 1 then
    if dropped then wake(head) end
    return 0
  end
  redis.call('LPOP', queue)  -- its process died or stalled: its lease ran out
  dropped = true
end
