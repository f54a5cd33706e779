-- Loads ARGV[1] accounts at ARGV[2] each under redis-benchmark's key names (acct:%012d) and zeroes the
-- deposit total KEYS[1].
local n, initial = tonumber(ARGV[1]), ARGV[2]
for i = 0, n - 1 do redis.call('SET', string.format('acct:%012d', i), initial) end
redis.call('SET', KEYS[1], 0)
return n
