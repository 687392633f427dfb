package store

// The Redis store's Lua scripts. Redis runs each atomically, which is what
// lets several trackers update one swarm without locks of their own, and
// each is one round trip. Key and field layout: see Redis.

// announceLua records or removes one peer and samples peers for it.
//
// KEYS: 1-4 the swarm's partition sets (IPv4 seeds, IPv4 leechers, IPv6
// leechers, IPv6 seeds), 5 its id hash, 6 the swarms set, 7 the peers
// counter, 8 the seeds counter, 9 the exp sorted set.
// ARGV: 1 info hash, 2 address key, 3 peer id, 4 partition (1-4), 5 event
// (BEP 15 numbering), 6 peers wanted, 7 family (0 any, 1 IPv4, 2 IPv6),
// 8 "1" for a seed, 9 now in Unix µs, 10-12 the limits (swarms, peers per
// swarm, peers), 13 a PRNG seed in [1, 2^31-2].
//
// Reply: {code, complete, incomplete, downloaded, peers} where code 0 is
// success and 1-3 name the limit that refused a new peer, and peers is the
// sampled set members (address key and peer id, 38 bytes each) joined into
// one string: one bulk reply instead of one per peer is most of what makes
// the script fast.
const announceLua = `
local ih, m, id = ARGV[1], ARGV[2], ARGV[3]
local part = tonumber(ARGV[4])
local event = tonumber(ARGV[5])
local numwant = tonumber(ARGV[6])
local fam = tonumber(ARGV[7])
local isseed = ARGV[8] == '1'
local ids = KEYS[5]
local me = m .. id

local function seedpart(p) return p == 1 or p == 4 end

-- The counts are read once and kept up to date below as the script
-- changes the sets.
local c = {redis.call('SCARD', KEYS[1]), redis.call('SCARD', KEYS[2]),
           redis.call('SCARD', KEYS[3]), redis.call('SCARD', KEYS[4])}
local dl = tonumber(redis.call('HGET', ids, '#dl') or '0')

local cur, curmember = 0, nil
local old = redis.call('HGET', ids, m)
if old then
  cur = tonumber(string.sub(old, 1, 1))
  curmember = m .. string.sub(old, 2)
end

if event == 3 then
  if cur > 0 then
    redis.call('SREM', KEYS[cur], curmember)
    redis.call('HDEL', ids, m)
    redis.call('ZREM', KEYS[9], ih .. m)
    redis.call('DECR', KEYS[7])
    if seedpart(cur) then redis.call('DECR', KEYS[8]) end
    c[cur] = c[cur] - 1
    if c[1] + c[2] + c[3] + c[4] == 0 then
      -- The swarm is gone, and with it its completed count, as in the
      -- memory store; the reply still reports the count it had.
      redis.call('DEL', ids)
      redis.call('SREM', KEYS[6], ih)
    end
  end
  return {0, c[1] + c[4], c[2] + c[3], dl}
end

if cur == 0 then
  local n = c[1] + c[2] + c[3] + c[4]
  if n == 0 and redis.call('SCARD', KEYS[6]) >= tonumber(ARGV[10]) then
    return {1, 0, 0, 0}
  end
  if n >= tonumber(ARGV[11]) then return {2, 0, 0, 0} end
  if tonumber(redis.call('GET', KEYS[7]) or '0') >= tonumber(ARGV[12]) then
    return {3, 0, 0, 0}
  end
  if n == 0 then redis.call('SADD', KEYS[6], ih) end
  redis.call('SADD', KEYS[part], me)
  redis.call('INCR', KEYS[7])
  if seedpart(part) then redis.call('INCR', KEYS[8]) end
  c[part] = c[part] + 1
  if event == 1 then dl = redis.call('HINCRBY', ids, '#dl', 1) end
else
  -- Counted once per leecher that finishes, not once per "completed" a
  -- client repeats after a lost response.
  if event == 1 and not seedpart(cur) then dl = redis.call('HINCRBY', ids, '#dl', 1) end
  if cur ~= part or curmember ~= me then
    -- A new partition, or a new peer id (a restarted client), which is
    -- part of the set member.
    redis.call('SREM', KEYS[cur], curmember)
    redis.call('SADD', KEYS[part], me)
    c[cur] = c[cur] - 1
    c[part] = c[part] + 1
    if seedpart(cur) and not seedpart(part) then redis.call('DECR', KEYS[8]) end
    if seedpart(part) and not seedpart(cur) then redis.call('INCR', KEYS[8]) end
  end
end
if cur ~= part or curmember ~= me then
  redis.call('HSET', ids, m, tostring(part) .. id)
end
redis.call('ZADD', KEYS[9], ARGV[9], ih .. m)

local reply = {0, c[1] + c[4], c[2] + c[3], dl}
if numwant <= 0 then return reply end

-- The sets the asker may draw from: seeds get only leechers.
local cand
if fam == 1 then
  if isseed then cand = {2} else cand = {1, 2} end
elseif fam == 2 then
  if isseed then cand = {3} else cand = {3, 4} end
else
  if isseed then cand = {2, 3} else cand = {1, 2, 3, 4} end
end

-- MINSTD: exact in Lua's doubles (x * 48271 < 2^47), seeded by the caller
-- because Redis's own math.random is not to be relied on for fresh draws
-- on every call.
local x = tonumber(ARGV[13])
local function rnd(n)
  x = (x * 48271) % 2147483647
  return math.floor(x / 2147483647 * n)
end

-- How many to draw from each set: a multivariate hypergeometric draw (each
-- pick chooses a set in proportion to its undrawn members), which together
-- with SRANDMEMBER's uniform subsets makes the sample uniform over the
-- union. The asker sits in its own set and is not a candidate.
local avail, take, total = {}, {}, 0
for _, p in ipairs(cand) do
  local n = c[p]
  if p == part then n = n - 1 end
  avail[p], take[p], total = n, 0, total + n
end
local k = math.min(numwant, total)
if k == total then
  -- Everyone: no draw needed.
  for _, p in ipairs(cand) do take[p] = avail[p] end
else
  local left = total
  for _ = 1, k do
    local r = rnd(left)
    for _, p in ipairs(cand) do
      local a = avail[p] - take[p]
      if r < a then
        take[p] = take[p] + 1
        break
      end
      r = r - a
    end
    left = left - 1
  end
end

local out = {}
for _, p in ipairs(cand) do
  local t = take[p]
  if t > 0 then
    if p == part then
      -- Draw one more than needed and drop the asker, or a random member
      -- if the asker was not drawn: either way a uniform subset of the
      -- others.
      local got = redis.call('SRANDMEMBER', KEYS[p], t + 1)
      local drop
      for i, v in ipairs(got) do
        if v == me then drop = i break end
      end
      if not drop then drop = rnd(#got) + 1 end
      table.remove(got, drop)
      out[#out + 1] = table.concat(got)
    else
      out[#out + 1] = table.concat(redis.call('SRANDMEMBER', KEYS[p], t))
    end
  end
end
reply[5] = table.concat(out)
return reply
`

// scrapeLua reports swarms' numbers.
//
// KEYS: for each swarm, its four partition sets then its id hash.
// Reply: {complete, incomplete, downloaded} for each swarm, flattened.
const scrapeLua = `
local out = {}
for i = 1, #KEYS, 5 do
  out[#out + 1] = redis.call('SCARD', KEYS[i]) + redis.call('SCARD', KEYS[i + 3])
  out[#out + 1] = redis.call('SCARD', KEYS[i + 1]) + redis.call('SCARD', KEYS[i + 2])
  out[#out + 1] = tonumber(redis.call('HGET', KEYS[i + 4], '#dl') or '0')
end
return out
`

// expireLua removes up to a batch of peers last seen before a cutoff,
// oldest first. It derives each swarm's keys from the exp entry (info hash
// then address key), which is why the store needs a single Redis server.
//
// KEYS: 1 exp, 2 swarms, 3 peers counter, 4 seeds counter.
// ARGV: 1 key prefix, 2 cutoff in Unix µs (exclusive), 3 batch size.
// Reply: {entries looked at, peers removed}.
const expireLua = `
local items = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', '(' .. ARGV[2], 'LIMIT', 0, tonumber(ARGV[3]))
local removed = 0
for _, it in ipairs(items) do
  local ih, m = string.sub(it, 1, 20), string.sub(it, 21)
  local sw = ARGV[1] .. ih
  local ids = sw .. ':i'
  local v = redis.call('HGET', ids, m)
  if v then
    local p = tonumber(string.sub(v, 1, 1))
    redis.call('SREM', sw .. ':' .. p, m .. string.sub(v, 2))
    redis.call('HDEL', ids, m)
    redis.call('DECR', KEYS[3])
    if p == 1 or p == 4 then redis.call('DECR', KEYS[4]) end
    removed = removed + 1
    if redis.call('SCARD', sw .. ':1') + redis.call('SCARD', sw .. ':2')
       + redis.call('SCARD', sw .. ':3') + redis.call('SCARD', sw .. ':4') == 0 then
      redis.call('DEL', ids)
      redis.call('SREM', KEYS[2], ih)
    end
  end
  redis.call('ZREM', KEYS[1], it)
end
return {#items, removed}
`

// totalsLua reads the store-wide counts.
//
// KEYS: 1 swarms, 2 peers counter, 3 seeds counter.
const totalsLua = `
return {redis.call('SCARD', KEYS[1]), tonumber(redis.call('GET', KEYS[2]) or '0'),
        tonumber(redis.call('GET', KEYS[3]) or '0')}
`
