-- The banking invariant over ARGV[1] accounts that started at ARGV[2]: their total is the initial money
-- plus the deposit total KEYS[1], and none is negative. Returns {ok (1/0), total, expected, negative}.
local n, initial = tonumber(ARGV[1]), tonumber(ARGV[2])
local total, negative = 0, 0
for i = 0, n - 1 do
  local b = tonumber(redis.call('GET', string.format('acct:%012d', i)))
  total = total + b
  if b < 0 then negative = negative + 1 end
end
local expected = n * initial + tonumber(redis.call('GET', KEYS[1]))
local ok = 0
if total == expected and negative == 0 then ok = 1 end
return {ok, tostring(total), tostring(expected), negative}
