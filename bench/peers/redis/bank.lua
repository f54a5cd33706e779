-- One banking request as one atomic script: KEYS = {account a, account b, deposit total}, ARGV[1] = a
-- random integer r (redis-benchmark's __rand_int__) that picks the request the way Leasehold's banking
-- workload does: even r is a transfer a -> b, odd r a deposit into a; the amount is 1 + (r / 2) mod 100.
-- Returns 1 when the money moved, 0 when the transfer was refused (a = b, or a is short of funds).
local r = tonumber(ARGV[1])
local amt = 1 + math.floor(r / 2) % 100
if r % 2 == 1 then
  redis.call('INCRBY', KEYS[1], amt)
  redis.call('INCRBY', KEYS[3], amt)
  return 1
end
if KEYS[1] == KEYS[2] then return 0 end
local b = tonumber(redis.call('GET', KEYS[1]))
if b < amt then return 0 end
redis.call('DECRBY', KEYS[1], amt)
redis.call('INCRBY', KEYS[2], amt)
return 1
