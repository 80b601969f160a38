/**
 * The Redis ledger's scripts. Each runs atomically inside Redis, so reserve's check and its writes
 * see the same state no matter how many gateway instances call it (STYLE §9).
 *
 * Per scope and period (keys share the `{sluice-budget}` hash tag, so one script may touch them all):
 *   ledger  HASH  spent → micro-USD charged; held → micro-USD in the holds set; th:<fraction> → 1 once reported
 *   holds   ZSET  member "<reservationId>|<amountMicro>", score = expiry (epoch ms)
 * Per reservation:
 *   res     HASH  state → held | settled | released
 * Invariant: ledger.held = sum of the amounts of the members of holds.
 * Amounts are integers; Lua numbers are doubles, exact up to 2^53 micro-USD (about 9 billion USD).
 * A decrement is written `0 - x`, never `-x`: for a zero amount `-x` is the double -0, which Redis
 * formats as "-0" and HINCRBY refuses as "not an integer".
 */

/** Shared by reserve and snapshot: removes holds whose expiry ≤ now and takes their amounts off `held`. */
const DROP_EXPIRED = `
local function drop_expired(ledger, holds, now)
  local expired = redis.call('ZRANGEBYSCORE', holds, '-inf', now)
  if #expired == 0 then return end
  local freed = 0
  for _, member in ipairs(expired) do freed = freed + tonumber(string.match(member, '|(%d+)$')) end
  redis.call('ZREMRANGEBYSCORE', holds, '-inf', now)
  redis.call('HINCRBY', ledger, 'held', 0 - freed)
end
local function spent_and_held(ledger)
  local values = redis.call('HMGET', ledger, 'spent', 'held')
  return tonumber(values[1]) or 0, tonumber(values[2]) or 0
end
`;

/**
 * KEYS: res, then (ledger, holds) per scope.
 * ARGV: now, amount, expiresAt, member, resTtlSeconds, then (cap, ledgerTtlSeconds) per scope.
 * Returns {1} held; {0, scopeIndex, spent, held} refused at that scope (1-based); {-1} id already used.
 */
export const RESERVE_SCRIPT = `${DROP_EXPIRED}
local now, amount = tonumber(ARGV[1]), tonumber(ARGV[2])
local scopes = (#KEYS - 1) / 2
if redis.call('EXISTS', KEYS[1]) == 1 then return {-1} end
for i = 1, scopes do
  local ledger, holds = KEYS[2 * i], KEYS[2 * i + 1]
  drop_expired(ledger, holds, now)
  local spent, held = spent_and_held(ledger)
  if spent + held + amount > tonumber(ARGV[4 + 2 * i]) then return {0, i, spent, held} end
end
for i = 1, scopes do
  local ledger, holds, ttl = KEYS[2 * i], KEYS[2 * i + 1], ARGV[5 + 2 * i]
  redis.call('ZADD', holds, ARGV[3], ARGV[4])
  redis.call('HINCRBY', ledger, 'held', amount)
  redis.call('EXPIRE', ledger, ttl)
  redis.call('EXPIRE', holds, ttl)
end
redis.call('HSET', KEYS[1], 'state', 'held')
redis.call('EXPIRE', KEYS[1], ARGV[5])
return {1}
`;

/**
 * KEYS: res, then (ledger, holds) per scope.
 * ARGV: actual, member, amount, doneTtlSeconds, thresholdCount T, T labels, then per scope
 *       (ledgerTtlSeconds, T limits; a limit of -1 means "no threshold", for a zero cap).
 * Returns {0} when the reservation was already settled or released; else {1, scopeIndex, labelIndex, spent, …}
 * listing thresholds reported for the first time. A missing res (its record outlived) still charges.
 */
export const SETTLE_SCRIPT = `
local state = redis.call('HGET', KEYS[1], 'state')
if state == 'settled' or state == 'released' then return {0} end
redis.call('HSET', KEYS[1], 'state', 'settled')
redis.call('EXPIRE', KEYS[1], ARGV[4])
local actual, member, amount = tonumber(ARGV[1]), ARGV[2], tonumber(ARGV[3])
local thresholds = tonumber(ARGV[5])
local scopes = (#KEYS - 1) / 2
local result = {1}
for i = 1, scopes do
  local ledger, holds = KEYS[2 * i], KEYS[2 * i + 1]
  local base = 5 + thresholds + (i - 1) * (thresholds + 1)
  if redis.call('ZREM', holds, member) == 1 then redis.call('HINCRBY', ledger, 'held', 0 - amount) end
  local spent = redis.call('HINCRBY', ledger, 'spent', actual)
  redis.call('EXPIRE', ledger, ARGV[base + 1])
  for t = 1, thresholds do
    local limit = tonumber(ARGV[base + 1 + t])
    if limit >= 0 and spent >= limit and redis.call('HSETNX', ledger, 'th:' .. ARGV[5 + t], 1) == 1 then
      table.insert(result, i)
      table.insert(result, t)
      table.insert(result, spent)
    end
  end
end
return result
`;

/**
 * KEYS: res, then (ledger, holds) per scope. ARGV: member, amount, doneTtlSeconds.
 * Returns 1 when this call released the reservation, 0 when it was settled, released or unknown.
 */
export const RELEASE_SCRIPT = `
if redis.call('HGET', KEYS[1], 'state') ~= 'held' then return 0 end
redis.call('HSET', KEYS[1], 'state', 'released')
redis.call('EXPIRE', KEYS[1], ARGV[3])
local amount = tonumber(ARGV[2])
for i = 1, (#KEYS - 1) / 2 do
  if redis.call('ZREM', KEYS[2 * i + 1], ARGV[1]) == 1 then redis.call('HINCRBY', KEYS[2 * i], 'held', 0 - amount) end
end
return 1
`;

/**
 * KEYS: (ledger, holds) per scope. ARGV: now. Read-only: live held = held − expired amounts.
 * Returns {spent, held} per scope, flattened.
 */
export const SNAPSHOT_SCRIPT = `
local result = {}
for i = 1, #KEYS / 2 do
  local ledger, holds = KEYS[2 * i - 1], KEYS[2 * i]
  local values = redis.call('HMGET', ledger, 'spent', 'held')
  local held = tonumber(values[2]) or 0
  for _, member in ipairs(redis.call('ZRANGEBYSCORE', holds, '-inf', ARGV[1])) do
    held = held - tonumber(string.match(member, '|(%d+)$'))
  end
  table.insert(result, tonumber(values[1]) or 0)
  table.insert(result, held)
end
return result
`;
