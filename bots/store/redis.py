"""The Redis store: several workers on several machines share threads through one Redis server.

Every key lives on ONE Redis (a primary, possibly with replicas for
failover): the Lua scripts below build key names themselves, so Redis
Cluster, which needs every key of a script named up front and in one hash
slot, is not supported.

Durability. "No acknowledged message is lost" holds across a Redis restart
only when Redis runs with ``appendonly yes`` and ``appendfsync everysec``
(at most a second of writes lost on a power cut) or ``always``. Without the
append-only file an acknowledged message lives only in memory; :meth:`open`
logs a warning when it can see that persistence is off.

Atomicity. Every change that touches more than one key (commit, merge,
delete, import, resolve, link, token use, the inbox) is one Lua script,
which Redis runs with nothing else in between: a version mismatch or a
duplicate inbound id is found before anything is written, so a refused
commit writes nothing. Scripts get JSON text and never parse it; the kind
and message id of each event come as separate arguments. Reads that need
several keys to agree (tail, turn_events) are read-only scripts.

Layout (prefix ``tl:`` by default, URL option ``prefix=``; see :class:`_Keys`):
``thread:{id}`` hash version/state/created_at/updated_at; ``events:{id}``
list of event records, element seq-1 (the log is append-only and seq is
contiguous from 1); ``kind:{kind}:{id}`` sorted set of the seqs of one kind,
so ``tail`` reads the last N of a few kinds without scanning the log, and
the next inbound event after a seq is one range read; ``kinds:{id}`` the
kinds used; ``msgids:{id}`` inbound message id -> seq; ``identity:{channel}
\\0{user}`` -> thread; ``identities:{id}`` sorted set scored by created_at
(ties by member, which orders by channel then user id); ``threads`` sorted
set for lexicographic paging; ``wake`` thread -> wake_at; ``merged:{src}``
-> into and ``merges_into:{into}`` set; ``tokens`` nonce -> user and
``token_expiry``; ``inbox_*`` the webhook inbox.

The thread lock. Rasa's RedisLockStore (rasa issue #9213) handed out ticket
numbers with a lifetime: a ticket expired while its holder was still busy,
a second instance went ahead on the same conversation, and the tracker
store's save overwrote whatever the other had written. Two things differ here:

* A lease is kept alive by its holder: one background task per process
  refreshes the lease keys of all its live waiters and holders every
  lease/3. Only a process that stops running (killed, frozen, or its event
  loop blocked longer than a lease) loses its place; the queue is a Redis
  list in arrival order, and whoever finds the head's lease key gone pops it.
* Losing the lock cannot lose data: the log's version is a fencing token.
  A holder reads the version under the lock and every commit is refused
  unless the stored version is still exactly that one. If a stale holder
  wakes after another worker took over, either the other worker has
  committed (the version moved, the stale commit raises ConflictError) or
  it has not (then the stale commit lands and the other worker's commit,
  based on the old version, is refused). Two writers can never both
  succeed on one version, so no write overwrites another.

Waiting does not poll hard: a releaser publishes on the channel of the
process whose token is now at the head, and one pub/sub listener per
process wakes that waiter; waiters re-check anyway every lease/3, which is
how a crashed holder's expired lease is noticed.
"""

from __future__ import annotations

import asyncio
import contextvars
import json
import logging
import uuid
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any, AsyncIterator

import redis.asyncio as aioredis
from redis.exceptions import RedisError

from bots.errors import UserError
from bots.store.base import (INBOUND_KINDS, INBOX_PERSON_PATHS, TOKEN_GRACE_SECONDS, ConflictError, Snapshot,
                              StoredEvent, ThreadLock, ThreadStore, ThreadDump, new_thread_id)
from bots.store.urls import redacted, split_options
from bots.types import Identity, ThreadEvent

log = logging.getLogger(__name__)

DEFAULT_LEASE_SECONDS = 30.0
RELEASE_TIMEOUT_SECONDS = 5.0  # a release that cannot reach Redis gives up; the lease then runs out by itself
INBOX_PAGE = 1000
MAX_CONNECTIONS = 100  # per store object, i.e. per worker process
POOL_WAIT_SECONDS = 30.0


class _Keys:
    """The key layout, in one place: ``{prefix}{name}:{part}:{part}``. The Lua side builds keys by the same
    rule (``key(name, ...)`` in :data:`_LUA_HELPERS`), with the prefix baked into the script text."""

    def __init__(self, prefix: str) -> None:
        self.prefix = prefix

    def __call__(self, name: str, *parts: str) -> str:
        return self.prefix + ":".join((name, *parts))

    @staticmethod
    def member(identity: Identity) -> str:
        """An identity as one string; NUL sorts first, so members order by (channel, user id)."""
        return f"{identity.channel}\x00{identity.user_id}"

    @staticmethod
    def identity(member: str) -> Identity:
        channel, _, user_id = member.partition("\x00")
        return Identity(channel, user_id)

    def lua(self) -> str:
        """The Lua definition of the same rule."""
        literal = "".join(f"\\{byte}" for byte in self.prefix.encode())
        return f"local P = \"{literal}\"\nlocal function key(...) return P .. table.concat({{...}}, ':') end\n"


# Shared by the scripts. Events come as four arguments each: kind, '1' if its message id is indexed (an
# inbound kind with an id), the message id, and the JSON record [ts, kind, channel, message_id, data].
_LUA_HELPERS = r"""
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
"""

# ARGV: thread, expected version, state, now, wake_at or '', count, events...
_COMMIT = r"""
local thread, expected, count = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[6])
local version = version_of(thread)
if version ~= expected then
  return {0, 'thread ' .. thread .. ' is at version ' .. version .. ', expected ' .. expected}
end
local dup = duplicate(thread, ARGV, 7, count, true)
if dup then return {0, 'thread ' .. thread .. ' already has an inbound event ' .. dup} end
append(thread, version, ARGV, 7, count)
save(thread, version + count, ARGV[3], nil, ARGV[4], ARGV[5])
return {1, version + count}
"""

# ARGV: into, source, expected into, expected source, state, now, wake_at or '', count, events...
_MERGE = r"""
local into, source, count = ARGV[1], ARGV[2], tonumber(ARGV[8])
if into == source or redis.call('EXISTS', key('merged', into), key('merged', source)) > 0 then
  return {0, 'cannot merge ' .. source .. ' into ' .. into .. ': one of them was merged already'}
end
local created = nil
for i, thread in ipairs({into, source}) do
  local row = redis.call('HMGET', key('thread', thread), 'version', 'created_at')
  local version = tonumber(row[1] or '0')
  if version ~= tonumber(ARGV[2 + i]) then
    return {0, 'thread ' .. thread .. ' is at version ' .. version .. ', expected ' .. ARGV[2 + i]}
  end
  if row[2] and (created == nil or tonumber(row[2]) < tonumber(created)) then created = row[2] end
end
local dup = duplicate(into, ARGV, 9, count, false)
if dup then return {0, 'the merged log has the inbound event ' .. dup .. ' twice'} end
drop_log(into)
drop_log(source)
redis.call('DEL', key('thread', source))
redis.call('ZREM', key('threads'), source)
redis.call('ZREM', key('wake'), source)
append(into, 0, ARGV, 9, count)
save(into, count, ARGV[5], created or ARGV[6], ARGV[6], ARGV[7])
local moved = redis.call('ZRANGE', key('identities', source), 0, -1, 'WITHSCORES')
for i = 1, #moved, 2 do put_identity(moved[i], into, moved[i + 1]) end
-- threads merged into the source before now live in ``into`` too
for _, older in ipairs(redis.call('SMEMBERS', key('merges_into', source))) do
  redis.call('SET', key('merged', older), into)
  redis.call('SADD', key('merges_into', into), older)
end
redis.call('DEL', key('merges_into', source))
redis.call('SET', key('merged', source), into)
redis.call('SADD', key('merges_into', into), source)
return {1, count}
"""

# ARGV: thread, number of identities seen, those identities..., inbox item ids to drop...
# Refuses ({0}) when the thread's identities are not the ones the caller scanned the inbox for.
_DELETE = r"""
local thread, seen = ARGV[1], tonumber(ARGV[2])
local expected = {}
for i = 3, 2 + seen do expected[ARGV[i]] = true end
local ids = {thread}
for _, source in ipairs(redis.call('SMEMBERS', key('merges_into', thread))) do ids[#ids + 1] = source end
local found = {1}
for _, id in ipairs(ids) do
  local members = redis.call('ZRANGE', key('identities', id), 0, -1, 'WITHSCORES')
  for i = 1, #members, 2 do
    if not expected[members[i]] then return {0} end
    found[#found + 1] = members[i]; found[#found + 1] = members[i + 1]
  end
end
if #found - 1 ~= seen * 2 then return {0} end
for _, id in ipairs(ids) do
  drop_log(id)
  redis.call('DEL', key('thread', id))
  redis.call('ZREM', key('threads'), id)
  redis.call('ZREM', key('wake'), id)
  for _, member in ipairs(redis.call('ZRANGE', key('identities', id), 0, -1)) do
    redis.call('DEL', key('identity', member))
  end
  redis.call('DEL', key('identities', id))
  local into = redis.call('GET', key('merged', id))
  if into then redis.call('SREM', key('merges_into', into), id) end
  redis.call('DEL', key('merged', id), key('merges_into', id))
end
for i = 3 + seen, #ARGV do drop_inbox_item(ARGV[i]) end
return found
"""

# ARGV: thread, state, created_at, updated_at, wake_at or '', n, n x (member, created_at), m, m sources,
#       count, events...
_IMPORT = r"""
local thread = ARGV[1]
if redis.call('EXISTS', key('thread', thread)) == 1 then
  return {0, 'thread ' .. thread .. ' is already in this store'}
end
local people = tonumber(ARGV[6])
local at = 7 + 2 * people
local merged = tonumber(ARGV[at])
local first = at + merged + 2
local count = tonumber(ARGV[first - 1])
local dup = duplicate(thread, ARGV, first, count, false)
if dup then return {0, 'the log has the inbound event ' .. dup .. ' twice'} end
append(thread, 0, ARGV, first, count)
save(thread, count, ARGV[2], ARGV[3], ARGV[4], ARGV[5])
for i = 0, people - 1 do put_identity(ARGV[7 + 2 * i], thread, ARGV[8 + 2 * i]) end
for i = at + 1, at + merged do
  local before = redis.call('GET', key('merged', ARGV[i]))
  if before then redis.call('SREM', key('merges_into', before), ARGV[i]) end
  redis.call('SET', key('merged', ARGV[i]), thread)
  redis.call('SADD', key('merges_into', thread), ARGV[i])
end
return {1, count}
"""

# ARGV: member, a new thread id, now
_RESOLVE = r"""
local found = redis.call('GET', key('identity', ARGV[1]))
if found then return found end
put_identity(ARGV[1], ARGV[2], ARGV[3])
return ARGV[2]
"""

# ARGV: member, thread, now
_LINK = r"""
put_identity(ARGV[1], ARGV[2], ARGV[3])
return 1
"""

# ARGV: thread, limit, kinds...  ->  seq, record, seq, record ... oldest first
_TAIL = r"""
local thread, limit = ARGV[1], tonumber(ARGV[2])
local seqs = {}
for i = 3, #ARGV do
  for _, seq in ipairs(redis.call('ZREVRANGE', key('kind', ARGV[i], thread), 0, limit - 1)) do
    seqs[#seqs + 1] = tonumber(seq)
  end
end
table.sort(seqs, function(a, b) return a > b end)
local chosen = {}
for _, seq in ipairs(seqs) do
  if #chosen == limit then break end
  if seq ~= chosen[#chosen] then chosen[#chosen + 1] = seq end
end
local out, log = {}, key('events', thread)
for i = #chosen, 1, -1 do
  out[#out + 1] = chosen[i]
  out[#out + 1] = redis.call('LINDEX', log, chosen[i] - 1)
end
return out
"""

# ARGV: thread, message id, inbound kinds...  ->  {first seq, records} or {}
_TURN = r"""
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
"""

# ARGV: nonce, expires_at, now - grace, by
_TOKEN = r"""
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
"""

# ARGV: channel, (dedupe key, payload)...  ->  one id per item, 0 where it was stored before
_ENQUEUE = r"""
local channel, out = ARGV[1], {}
local dedupe = key('inbox_dedupe', channel)
for i = 2, #ARGV, 2 do
  if redis.call('HEXISTS', dedupe, ARGV[i]) == 1 then
    out[#out + 1] = 0
  else
    local id = redis.call('INCR', key('inbox_seq'))
    redis.call('HSET', dedupe, ARGV[i], id)
    redis.call('HSET', key('inbox_meta'), id, channel .. '\0' .. ARGV[i])
    redis.call('HSET', key('inbox_payload'), id, ARGV[i + 1])
    redis.call('ZADD', key('inbox_pending', channel), id, id)
    out[#out + 1] = id
  end
end
return out
"""

# ARGV: now, now - keep_seconds, ids...
_FINISH = r"""
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
"""

# ARGV: lock key, token, lease ms  ->  1 when the token is at the head of the queue (the lock is held)
_ACQUIRE = r"""
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
"""

# ARGV: lock key, token
_RELEASE = r"""
local queue = key('lockq', ARGV[1])
redis.call('DEL', key('lease', ARGV[2]))
redis.call('LREM', queue, 1, ARGV[2])
while true do
  local head = redis.call('LINDEX', queue, 0)
  if not head then return 0 end
  if redis.call('EXISTS', key('lease', head)) == 1 then wake(head); return 1 end
  redis.call('LPOP', queue)
end
"""


def _json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, default=str)


def _wake_at(state: dict[str, Any]) -> str:
    wake_at = state.get("wake_at")
    return "" if wake_at is None else repr(float(wake_at))


def _event_args(events: list[ThreadEvent]) -> list[str]:
    """Four script arguments per event. Like the SQLite store, only inbound events keep their message id."""
    args: list[str] = []
    for e in events:
        inbound = e.kind in INBOUND_KINDS
        message_id = e.message_id if inbound else None
        args += [e.kind, "1" if message_id is not None else "0", message_id or "",
                 _json([e.timestamp, e.kind, e.channel, message_id, e.data])]
    return args


def _event(record: str) -> ThreadEvent:
    timestamp, kind, channel, message_id, data = json.loads(record)
    return ThreadEvent(kind, data, float(timestamp), channel, message_id)


def _checked(result: list[Any]) -> int:
    if int(result[0]) != 1:
        raise ConflictError(str(result[1]))
    return int(result[1])


def _as_sql_text(value: Any) -> str | None:
    """A JSON value as SQLite's ``CAST(json_extract(...) AS TEXT)`` gives it, so a numeric PSID still matches."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, (dict, list)):
        return json.dumps(value, separators=(",", ":"), ensure_ascii=False)
    return str(value)


class RedisThreadStore(ThreadStore):
    """``redis://[user:password@]host[:port]/db?lock_lease=30&prefix=tl:`` plus any redis-py URL option.

    Nothing is cached: other workers write the same keys, so every read goes to Redis (one round trip each).
    """

    def __init__(self, url: str) -> None:
        self.url = url
        self.safe_url = redacted(url)
        self._redis_url, given = split_options(url)
        ours = {"lock_lease": str(DEFAULT_LEASE_SECONDS), "prefix": "tl:", **given}
        try:
            self.lease = float(ours["lock_lease"])
        except ValueError:
            self.lease = 0.0
        if not self.lease > 0:
            raise UserError(f"store {self.safe_url}: lock_lease must be a number of seconds above 0")
        self.keys = _Keys(ours["prefix"])
        self._client: aioredis.Redis | None = None
        self._lock: RedisThreadLock | None = None
        self._scripts: dict[str, Any] = {}

    # ------------------------------------------------------------------ lifecycle

    @property
    def client(self) -> aioredis.Redis:
        if self._client is None:
            raise RuntimeError("the Redis store is not open")
        return self._client

    async def open(self) -> None:
        try:
            # A blocking pool: a burst of more concurrent calls than connections waits for a free connection
            # instead of failing with "Too many connections" (redis-py's default pool caps at 100 and raises).
            # max_connections= and timeout= in the URL override these.
            pool = aioredis.BlockingConnectionPool.from_url(self._redis_url, decode_responses=True,
                                                            max_connections=MAX_CONNECTIONS, timeout=POOL_WAIT_SECONDS)
            client = aioredis.Redis.from_pool(pool)
        except (ValueError, TypeError) as exc:
            raise UserError(f"store {self.safe_url}: cannot connect: {exc}") from None
        try:
            await client.ping()
        except (RedisError, OSError, TypeError, ValueError) as exc:  # TypeError: an option redis-py does not know
            await client.aclose()
            raise UserError(f"store {self.safe_url}: cannot connect: {exc}") from None
        self._client = client
        preamble = self.keys.lua() + _LUA_HELPERS
        self._scripts = {name: client.register_script(preamble + text) for name, text in (
            ("commit", _COMMIT), ("merge", _MERGE), ("delete", _DELETE), ("import", _IMPORT),
            ("resolve", _RESOLVE), ("link", _LINK), ("tail", _TAIL), ("turn", _TURN), ("token", _TOKEN),
            ("enqueue", _ENQUEUE), ("finish", _FINISH), ("acquire", _ACQUIRE), ("release", _RELEASE))}
        try:
            appendonly = (await client.config_get("appendonly")).get("appendonly")
        except RedisError:
            return  # CONFIG is often disabled on managed Redis; nothing to learn then
        if appendonly != "yes":
            log.warning("store %s: Redis runs without appendonly: acknowledged messages are lost if Redis "
                        "restarts (set appendonly yes and appendfsync everysec)", self.safe_url)

    async def close(self) -> None:
        if self._lock is not None:
            await self._lock.close()
            self._lock = None
        if self._client is not None:
            await self._client.aclose()
            await self._client.connection_pool.disconnect()
            self._client = None

    def thread_lock(self) -> ThreadLock:
        # one per store, so close() can stop its lease refresher and its pub/sub listener
        if self._lock is None:
            self._lock = RedisThreadLock(self.client, self.keys, self.lease, self._scripts["acquire"],
                                         self._scripts["release"])
        return self._lock

    async def _run(self, script: str, args: list[Any]) -> Any:
        return await self._scripts[script](args=args)

    # ------------------------------------------------------------------ identities

    async def resolve(self, identity: Identity, *, now: float) -> str:
        found = await self.find(identity)
        if found is not None:
            return found
        return str(await self._run("resolve", [self.keys.member(identity), new_thread_id(), now]))

    async def find(self, identity: Identity) -> str | None:
        found = await self.client.get(self.keys("identity", self.keys.member(identity)))
        return str(found) if found is not None else None

    async def link(self, identity: Identity, thread_id: str, *, now: float) -> None:
        await self._run("link", [self.keys.member(identity), thread_id, now])

    async def identities(self, thread_id: str) -> list[Identity]:
        members = await self.client.zrange(self.keys("identities", thread_id), 0, -1)
        return [self.keys.identity(member) for member in members]

    # ------------------------------------------------------------------ threads

    async def load(self, thread_id: str) -> Snapshot | None:
        version, state, created_at, updated_at = await self.client.hmget(
            self.keys("thread", thread_id), "version", "state", "created_at", "updated_at")
        if version is None:
            return None
        return Snapshot(thread_id, json.loads(state), int(version), float(created_at), float(updated_at))

    async def commit(self, thread_id: str, state: dict[str, Any], events: list[ThreadEvent], *,
                     expected_version: int, now: float) -> int:
        _refuse_if_lock_lost()
        return _checked(await self._run("commit", [thread_id, expected_version, _json(state), now, _wake_at(state),
                                                   len(events), *_event_args(events)]))

    async def events(self, thread_id: str, *, after: int = 0, limit: int = 1000) -> list[StoredEvent]:
        after = max(after, 0)
        if limit <= 0:
            return []
        records = await self.client.lrange(self.keys("events", thread_id), after, after + limit - 1)
        return [StoredEvent(thread_id, after + offset, _event(record)) for offset, record in enumerate(records, 1)]

    async def tail(self, thread_id: str, kinds: tuple[str, ...], limit: int) -> list[StoredEvent]:
        if not kinds or limit <= 0:
            return []
        found = await self._run("tail", [thread_id, limit, *kinds])
        return [StoredEvent(thread_id, int(found[i]), _event(found[i + 1])) for i in range(0, len(found), 2)]

    async def turn_events(self, thread_id: str, message_id: str) -> list[StoredEvent]:
        found = await self._run("turn", [thread_id, message_id, *INBOUND_KINDS])
        if not found:
            return []
        first, records = int(found[0]), found[1]
        return [StoredEvent(thread_id, first + offset, _event(record)) for offset, record in enumerate(records)]

    async def has_message(self, thread_id: str, message_id: str) -> bool:
        return bool(await self.client.hexists(self.keys("msgids", thread_id), message_id))

    async def thread_ids(self, *, after: str = "", limit: int = 1000) -> list[str]:
        if limit <= 0:
            return []
        return list(await self.client.zrangebylex(self.keys("threads"), "(" + after if after else "-", "+",
                                                  start=0, num=limit))

    async def due_threads(self, *, now: float, limit: int = 100) -> list[str]:
        if limit <= 0:
            return []
        return list(await self.client.zrangebyscore(self.keys("wake"), "-inf", now, start=0, num=limit))

    async def next_wake(self) -> float | None:
        first = await self.client.zrange(self.keys("wake"), 0, 0, withscores=True)
        return float(first[0][1]) if first else None

    async def consume_token(self, nonce: str, *, expires_at: float, now: float, by: str = "") -> bool:
        # kept a while past expiry, measured with the caller's clock: a token's age is checked in whole
        # seconds, and servers' clocks differ
        return bool(await self._run("token", [nonce, expires_at, now - TOKEN_GRACE_SECONDS, by]))

    # ------------------------------------------------------------------ merging and forgetting

    async def merge_threads(self, into: str, source: str, events: list[ThreadEvent], state: dict[str, Any], *,
                            expected_versions: tuple[int, int], now: float) -> int:
        return _checked(await self._run("merge", [into, source, *expected_versions, _json(state), now,
                                                  _wake_at(state), len(events), *_event_args(events)]))

    async def merged_into(self, thread_id: str) -> str | None:
        found = await self.client.get(self.keys("merged", thread_id))
        return str(found) if found is not None else None

    async def merged_sources(self, thread_id: str) -> list[str]:
        return sorted(await self.client.smembers(self.keys("merges_into", thread_id)))

    async def delete_thread(self, thread_id: str) -> list[Identity]:
        # The inbox items to drop are found here (matching JSON is Python's job, not Lua's), for the identities
        # seen now; the script refuses if the thread's identities changed meanwhile, and we look again.
        for _ in range(10):
            sources = sorted(await self.client.smembers(self.keys("merges_into", thread_id)))
            async with self.client.pipeline(transaction=False) as pipe:
                for thread in (thread_id, *sources):
                    pipe.zrange(self.keys("identities", thread), 0, -1)
                members = [member for found in await pipe.execute() for member in found]
            items = await self._inbox_items_of([self.keys.identity(member) for member in members])
            found = await self._run("delete", [thread_id, len(members), *members, *items])
            if int(found[0]) == 1:
                pairs = sorted((float(found[i + 1]), found[i]) for i in range(1, len(found), 2))
                return [self.keys.identity(member) for _score, member in pairs]
        raise ConflictError(f"thread {thread_id} kept changing while it was being deleted")

    async def _inbox_items_of(self, identities: list[Identity]) -> list[str]:
        """Ids of stored Messenger webhook items that name one of these people (see INBOX_PERSON_PATHS)."""
        wanted = {channel: {i.user_id for i in identities if i.channel == channel} for channel in INBOX_PERSON_PATHS}
        if not any(wanted.values()):
            return []
        ids = list((await self.client.hgetall(self.keys("inbox_dedupe", "messenger"))).values())
        matches: list[str] = []
        for start in range(0, len(ids), INBOX_PAGE):
            page = ids[start:start + INBOX_PAGE]
            for item_id, payload in zip(page, await self.client.hmget(self.keys("inbox_payload"), page)):
                try:
                    item = json.loads(payload) if payload is not None else None
                except ValueError:
                    continue
                if any(_as_sql_text(self._follow(item, path)) in people
                       for channel, people in wanted.items() for path in INBOX_PERSON_PATHS[channel]):
                    matches.append(str(item_id))
        return matches

    @staticmethod
    def _follow(item: Any, path: tuple[str, ...]) -> Any:
        for step in path:
            if not isinstance(item, dict):
                return None
            item = item.get(step)
        return item

    # ------------------------------------------------------------------ copying between stores

    async def import_thread(self, dump: ThreadDump) -> None:
        snapshot = dump.snapshot
        people = [arg for order, identity in enumerate(dump.identities)
                  for arg in (self.keys.member(identity), snapshot.created_at + order * 1e-6)]
        _checked(await self._run("import", [
            snapshot.thread_id, _json(snapshot.state), snapshot.created_at, snapshot.updated_at,
            _wake_at(snapshot.state), len(dump.identities), *people, len(dump.merged_from), *dump.merged_from,
            len(dump.events), *_event_args(dump.events)]))

    # ------------------------------------------------------------------ inbox

    async def enqueue_inbound(self, channel: str, items: list[tuple[str, str]], *, now: float) -> list[int | None]:
        if not items:
            return []
        ids = await self._run("enqueue", [channel, *(part for item in items for part in item)])
        return [int(i) or None for i in ids]

    async def pending_inbound(self, channel: str, *, limit: int = 1000) -> list[tuple[int, str]]:
        if limit <= 0:
            return []
        ids = await self.client.zrange(self.keys("inbox_pending", channel), 0, limit - 1)
        if not ids:
            return []
        payloads = await self.client.hmget(self.keys("inbox_payload"), ids)
        return [(int(i), p) for i, p in zip(ids, payloads) if p is not None]  # None: finished meanwhile

    async def finish_inbound(self, ids: list[int], *, now: float, keep_seconds: float = 3 * 86400) -> None:
        if ids:
            await self._run("finish", [now, now - keep_seconds, *ids])


def _still_running() -> None:
    """Re-raise a cancellation redis-py swallowed: a pipeline cancelled mid-flight can return its results (or
    raise a connection error) with the task still marked as cancelling, and a loop that carried on would keep
    asyncio.run() from ever finishing (seen with redis-py 8.2 on Python 3.11)."""
    task = asyncio.current_task()
    if task is not None and task.cancelling():
        raise asyncio.CancelledError


@dataclass
class _Waiter:
    key: str
    wake: asyncio.Event = field(default_factory=asyncio.Event)
    holding: bool = False
    lost: bool = False


# the locks the current task holds, so a commit can refuse to write under a lock known to be lost
_HELD: contextvars.ContextVar[tuple[_Waiter, ...]] = contextvars.ContextVar("threadline_redis_locks", default=())


def _refuse_if_lock_lost() -> None:
    for waiter in _HELD.get():
        if waiter.lost:
            raise ConflictError(f"the lock on {waiter.key!r} was lost (this process stalled past its lease): "
                                "another worker may hold it, so nothing is written")


class RedisThreadLock(ThreadLock):
    """A FIFO lock per key across processes: a Redis list of tokens, each alive while its lease key lives.

    Every waiter queues its own token (rather than one token per process and key): two waiters of one
    process with a waiter of another process between them must still be served in arrival order.
    """

    def __init__(self, client: aioredis.Redis, keys: _Keys, lease: float, acquire: Any, release: Any) -> None:
        self._client = client
        self._keys = keys
        self._lease = lease
        self._lease_ms = max(int(lease * 1000), 1)
        self._acquire = acquire
        self._release = release
        self._process = uuid.uuid4().hex  # the first part of every token: where to publish its wake-up
        self._waiters: dict[str, _Waiter] = {}  # token -> waiter or holder, refreshed by _refresh
        self._pubsub: Any = None
        self._tasks: list[asyncio.Task[None]] = []
        self._releases: set[asyncio.Task[None]] = set()
        self._starting = asyncio.Lock()

    @asynccontextmanager
    async def lock(self, key: str) -> AsyncIterator[None]:
        await self._start()
        token = f"{self._process}:{uuid.uuid4().hex}"
        waiter = _Waiter(key)
        self._waiters[token] = waiter
        try:
            while True:
                waiter.wake.clear()  # before the check: a wake-up published after it is not missed
                acquired = await self._acquire(args=[key, token, self._lease_ms])
                _still_running()
                if acquired == 1:
                    break
                try:  # woken by the releaser, or re-check after lease/3 (a dead holder's lease runs out)
                    await asyncio.wait_for(waiter.wake.wait(), self._lease / 3)
                except asyncio.TimeoutError:
                    pass
            waiter.holding = True
            held = _HELD.set((*_HELD.get(), waiter))
            try:
                yield
            finally:
                _HELD.reset(held)
        finally:
            self._waiters.pop(token, None)  # no longer refreshed: if the release fails, the lease runs out
            release = asyncio.create_task(self._release_quietly(key, token))
            self._releases.add(release)
            release.add_done_callback(self._releases.discard)
            await asyncio.shield(release)  # a cancelled caller still releases

    async def _release_quietly(self, key: str, token: str) -> None:
        try:
            await asyncio.wait_for(self._release(args=[key, token]), RELEASE_TIMEOUT_SECONDS)
        except (RedisError, OSError, asyncio.TimeoutError) as exc:
            log.warning("could not release the lock on %s (%s); it comes free when its lease runs out", key, exc)

    async def _start(self) -> None:
        async with self._starting:
            if self._tasks:
                return
            pubsub = self._client.pubsub()
            try:
                await pubsub.subscribe(self._keys("lockwake", self._process))
                loop = asyncio.get_running_loop()
                deadline = loop.time() + 10
                while loop.time() < deadline:  # subscribed for sure before any release could publish to us
                    message = await pubsub.get_message(timeout=1.0)
                    if message is not None and message["type"] == "subscribe":
                        break
            except BaseException:
                await pubsub.aclose()
                raise
            self._pubsub = pubsub
            self._tasks = [asyncio.create_task(self._listen()), asyncio.create_task(self._refresh())]

    async def _listen(self) -> None:
        """Wake the waiter a release (or the removal of a dead head) published for."""
        failing = False
        while True:
            try:
                message = await self._pubsub.get_message(ignore_subscribe_messages=True, timeout=None)
            except Exception as exc:  # the task must live on: it is every waiter's wake-up
                _still_running()
                (log.debug if failing else log.warning)(
                    "lock wake-ups: %s; waiters re-check by themselves meanwhile", exc)
                failing = True
                for waiter in list(self._waiters.values()):
                    waiter.wake.set()
                await asyncio.sleep(min(1.0, self._lease / 3))
                continue
            _still_running()
            failing = False
            if message is not None and message.get("type") == "message":
                waiter = self._waiters.get(message["data"])
                if waiter is not None:
                    waiter.wake.set()

    async def _refresh(self) -> None:
        """Keep the leases of this process's waiters and holders alive: one pipeline per lease/3."""
        while True:
            await asyncio.sleep(self._lease / 3)
            live = list(self._waiters.items())
            if not live:
                continue
            try:
                async with self._client.pipeline(transaction=False) as pipe:
                    for token, waiter in live:
                        pipe.pexpire(self._keys("lease", token), self._lease_ms)
                        pipe.pexpire(self._keys("lockq", waiter.key), self._lease_ms)
                    results = await pipe.execute()
            except Exception as exc:  # the task must live on, or every lease of this process runs out
                _still_running()
                log.warning("could not refresh lock leases: %s", exc)
                continue
            _still_running()
            for (token, waiter), alive in zip(live, results[::2]):
                if not alive and waiter.holding and not waiter.lost:
                    waiter.lost = True  # PEXPIRE does not bring a lease back: another worker may hold it now
                    log.warning("the lock on %s was lost (this process stalled longer than its lease); "
                                "the store's version check refuses its stale writes", waiter.key)

    async def close(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            try:
                await task
            except asyncio.CancelledError:
                pass
        self._tasks = []
        if self._releases:
            await asyncio.gather(*self._releases, return_exceptions=True)
        if self._pubsub is not None:
            await self._pubsub.aclose()
            self._pubsub = None
