-- ARGV: member, thread, now
put_identity(ARGV[1], ARGV[2], ARGV[3])
return 1
