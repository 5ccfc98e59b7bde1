-- Shared by the scripts. Events come as four arguments each: kind, '1' if its message id is indexed (an
-- inbound kind with an id), the message id, and the JSON record [ts, kind, channel, message_id, data].
local function duplicate(thread, argv, first, count, against_log)
  local seen = {}
  for n = 0, count - 1 do
    local at = first + n * 4
    if argv[at + 1] == '1' then
      local id = argv[at + 2]
      if seen[id] or (against_log and redis.call('HEXISTS', key('msgids', thread), id) == 1) then return id end
      seen[id] = true
    end
  end
  return nil
end

local function append(thread, version, argv, first, count)
  local log, ids = key('events', thread), key('msgids', thread)
  local records, bykind = {}, {}
  for n = 0, count - 1 do
    local at, seq = first + n * 4, version + n + 1
    records[#records + 1] = argv[at + 3]
    if #records == 1000 then redis.call('RPUSH', log, unpack(records)); records = {} end
    local seqs = bykind[argv[at]]
    if not seqs then seqs = {}; bykind[argv[at]] = seqs end
    seqs[#seqs + 1] = seq; seqs[#seqs + 1] = seq
    if argv[at + 1] == '1' then redis.call('HSET', ids, argv[at + 2], seq) end
  end
  if #records > 0 then redis.call('RPUSH', log, unpack(records)) end
  for kind, seqs in pairs(bykind) do
    redis.call('SADD', key('kinds', thread), kind)
    for i = 1, #seqs, 1000 do
      redis.call('ZADD', key('kind', kind, thread), unpack(seqs, i, math.min(i + 999, #seqs)))
    end
  end
end

local function drop_log(thread)
  for _, kind in ipairs(redis.call('SMEMBERS', key('kinds', thread))) do
    redis.call('UNLINK', key('kind', kind, thread))
  end
  redis.call('UNLINK', key('events', thread), key('msgids', thread), key('kinds', thread))
end

local function save(thread, version, state, created, now, wake)
  local row = key('thread', thread)
  redis.call('HSET', row, 'version', version, 'state', state, 'updated_at', now)
  if created then redis.call('HSET', row, 'created_at', created) else redis.call('HSETNX', row, 'created_at', now) end
  if wake == '' then redis.call('ZREM', key('wake'), thread) else redis.call('ZADD', key('wake'), wake, thread) end
  redis.call('ZADD', key('threads'), 0, thread)
end

local function version_of(thread)
  return tonumber(redis.call('HGET', key('thread', thread), 'version') or '0')
end

local function drop_inbox_item(id)
  local meta = redis.call('HGET', key('inbox_meta'), id)
  if not meta then return end
  local cut = string.find(meta, '\0', 1, true)
  local channel, dedupe = string.sub(meta, 1, cut - 1), string.sub(meta, cut + 1)
  if redis.call('HGET', key('inbox_dedupe', channel), dedupe) == id then
    redis.call('HDEL', key('inbox_dedupe', channel), dedupe)
  end
  redis.call('ZREM', key('inbox_pending', channel), id)
  redis.call('ZREM', key('inbox_done'), id)
  redis.call('HDEL', key('inbox_meta'), id)
  redis.call('HDEL', key('inbox_payload'), id)
  redis.call('UNLINK', key('inbox_sent', id))
  local person = redis.call('HGET', key('inbox_person'), id)
  if person then
    redis.call('SREM', key('inbox_of', person), id)
    redis.call('HDEL', key('inbox_person'), id)
  end
end

-- every inbox item of one person (an identity as a sorted-set member); how many there were
local function drop_inbox_of(member)
  local ids = redis.call('SMEMBERS', key('inbox_of', member))
  for _, id in ipairs(ids) do drop_inbox_item(id) end
  redis.call('DEL', key('inbox_of', member))
  return #ids
end

-- an identity (a sorted-set member) now points at ``thread``; it keeps its created_at if it had one
local function put_identity(member, thread, score)
  local slot = key('identity', member)
  local old = redis.call('GET', slot)
  if old then
    score = redis.call('ZSCORE', key('identities', old), member) or score
    redis.call('ZREM', key('identities', old), member)
  end
  redis.call('SET', slot, thread)
  redis.call('ZADD', key('identities', thread), score, member)
end

local function wake(token)
  redis.call('PUBLISH', key('lockwake', string.match(token, '^[^:]*')), token)
end
