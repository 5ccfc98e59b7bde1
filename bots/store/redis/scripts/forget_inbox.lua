-- ARGV: people (identities as sorted-set members)...  ->  how many inbox items were theirs (now deleted)
local count = 0
for i = 1, #ARGV do count = count + drop_inbox_of(ARGV[i]) end
return count
