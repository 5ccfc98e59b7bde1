-- ARGV: thread, limit, kinds...  ->  seq, record, seq, record ... oldest first
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
