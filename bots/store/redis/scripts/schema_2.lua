-- ARGV: (inbox item id, person)...  Schema 2 gives the inbox items stored before it their person, once.
if tonumber(redis.call('GET', key('schema')) or '1') >= 2 then return 0 end
for i = 1, #ARGV, 2 do
  if redis.call('HEXISTS', key('inbox_meta'), ARGV[i]) == 1 then
    redis.call('HSET', key('inbox_person'), ARGV[i], ARGV[i + 1])
    redis.call('SADD', key('inbox_of', ARGV[i + 1]), ARGV[i])
  end
end
redis.call('SET', key('schema'), 2)
return 1
