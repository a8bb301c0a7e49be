-- The rate gate of one client ID on Redis: `crate::gate::GateState` step for step, run as
-- one script so that every process of every host decides on the same state at once, by the
-- server's clock (TIME). Upper-case names between at signs are the constants of
-- src/gate.rs, filled in by src/shared_state/redis.rs; a test there runs this script and
-- GateState on the same steps and compares every answer and field.
--
-- KEYS[1]  the gate hash (fields of GateState; lowered_rate/lowered_burst absent = none)
-- ARGV     op ("take" | "throttled" | "status"), now in Unix ms ("" = the server's TIME),
--          cap burst and cap requests per second ("" = no rate_limit), reserve ("" = a
--          call, else bulk), requests counted as let through before this step, Retry-After
--          in ms ("" = none), the key's lifetime in ms.
-- Returns  take: {admitted 1|0, wait ms, open 1|0}; throttled: {sharers wait 1|0};
--          status: {level, 429s seen}. Fractional numbers travel as text.

local op, now_arg = ARGV[1], ARGV[2]
local now
if now_arg ~= '' then
  now = tonumber(now_arg)
else
  local time = redis.call('TIME')
  now = tonumber(time[1]) * 1000 + tonumber(time[2]) / 1000
end
local cap_rate, cap_burst = math.huge, math.huge
if ARGV[3] ~= '' then
  cap_burst, cap_rate = tonumber(ARGV[3]), tonumber(ARGV[4])
end

local NUMBERS = {'tat', 'paused_until', 'lowered_at', 'recovery_step', 'episodes',
  'window_start', 'window_count', 'previous_count', 'first', 'throttled', 'through_total',
  'through_at_pause', 'fruitless'}
local OPTIONAL = {'lowered_rate', 'lowered_burst'}

local s = {}
local stored = redis.call('HGETALL', KEYS[1])
for i = 1, #stored, 2 do s[stored[i]] = tonumber(stored[i + 1]) end
for _, name in ipairs(NUMBERS) do s[name] = s[name] or 0 end

local function text(x) return string.format('%.17g', x) end

local function save()
  local fields = {}
  for _, name in ipairs(NUMBERS) do
    fields[#fields + 1] = name
    fields[#fields + 1] = text(s[name])
  end
  for _, name in ipairs(OPTIONAL) do
    if s[name] then
      fields[#fields + 1] = name
      fields[#fields + 1] = text(s[name])
    else
      redis.call('HDEL', KEYS[1], name)
    end
  end
  redis.call('HSET', KEYS[1], unpack(fields))
  redis.call('PEXPIRE', KEYS[1], ARGV[8])
end

local function rate_and_burst()
  if not s.lowered_rate then return cap_rate, cap_burst end
  local elapsed = math.max((now - s.lowered_at) / 1000, 0)
  local rate = math.min(s.lowered_rate + s.recovery_step * elapsed, cap_rate)
  return rate, math.min(s.lowered_burst or cap_burst, cap_burst)
end

local function level()
  local rate, burst = rate_and_burst()
  if rate == math.huge then return math.huge end
  return math.max(burst - math.max(s.tat - now, 0) / (1000 / rate), 0)
end

local function count_through(n)
  if s.first == 0 or s.first > now then s.first = now end
  local age = now - s.window_start
  if not (age >= 0 and age < @WINDOW_MS@) then
    if age >= 0 and age < 2 * @WINDOW_MS@ then
      s.previous_count = s.window_count
    else
      s.previous_count = 0
    end
    s.window_start = now
    s.window_count = 0
  end
  s.window_count = math.max(s.window_count + n, 0)
  s.through_total = math.max(s.through_total + n, 0)
end

-- nil: admitted; else the wait in ms.
local function take(reserve)
  if s.paused_until > now then
    local wait = math.min(s.paused_until - now, @MAX_PAUSE_MS@)
    s.paused_until = now + wait
    return wait
  end
  local rate, burst = rate_and_burst()
  if rate ~= math.huge then
    local spacing = 1000 / rate
    local kept = 0
    if reserve then kept = math.max(math.min(reserve, burst - 1), 0) end
    local tat = math.min(math.max(s.tat, now), now + burst * spacing)
    local debt = tat + spacing - now
    local limit = (burst - kept) * spacing
    if debt > limit + 1e-6 then
      s.tat = tat
      return debt - limit
    end
    s.tat = tat + spacing
  end
  count_through(1)
  return nil
end

local function is_open()
  return s.paused_until <= now and rate_and_burst() == math.huge and s.first > 0
    and now - s.first >= 1000
end

local function let_through()
  local into = math.min(math.max((now - s.window_start) / @WINDOW_MS@, 0), 1)
  local counted = s.previous_count * (1 - into) + s.window_count
  local span = math.min(math.max(now - s.first, 1000), @WINDOW_MS@)
  return math.max(counted / (span / 1000), 1)
end

local function throttled(retry_after)
  s.throttled = s.throttled + 1
  count_through(-1)
  local pause = retry_after or @DEFAULT_PAUSE_MS@
  local paused_until = now + math.min(pause, @MAX_PAUSE_MS@)
  local in_this_pause = s.paused_until > now
  s.paused_until = math.min(math.max(s.paused_until, paused_until), now + @MAX_PAUSE_MS@)
  if in_this_pause then return s.fruitless <= @MAX_FRUITLESS_PAUSES@ end
  if s.through_total > s.through_at_pause then s.fruitless = 0 end
  s.fruitless = s.fruitless + 1
  s.through_at_pause = s.through_total
  local rate, burst = rate_and_burst()
  local lowered = math.max(math.min(rate, let_through()) * @DECREASE@, @MIN_RATE@)
  local fraction = @RECOVERY_PER_SECOND@
  if s.episodes == 0 then fraction = @FIRST_RECOVERY_PER_SECOND@ end
  s.lowered_rate = lowered
  s.lowered_at = now
  local regain = 0
  if rate ~= math.huge then regain = math.max(rate - lowered, 0) / @REGAIN_SECONDS@ end
  s.recovery_step = math.max(lowered * fraction, regain)
  local lowered_burst = math.min(burst, math.max(lowered, 1))
  s.lowered_burst = lowered_burst
  s.tat = now + lowered_burst * (1000 / lowered)
  s.episodes = s.episodes + 1
  return s.fruitless <= @MAX_FRUITLESS_PAUSES@
end

local earlier = tonumber(ARGV[6])
if op == 'take' then
  if earlier > 0 then count_through(earlier) end
  local reserve = nil
  if ARGV[5] ~= '' then reserve = tonumber(ARGV[5]) end
  local wait = take(reserve)
  local open = is_open()
  save()
  if wait then return {0, text(wait), open and 1 or 0} end
  return {1, '0', open and 1 or 0}
elseif op == 'throttled' then
  if earlier > 0 then count_through(earlier) end
  local retry_after = nil
  if ARGV[7] ~= '' then retry_after = tonumber(ARGV[7]) end
  local waiting = throttled(retry_after)
  save()
  return {waiting and 1 or 0}
elseif op == 'status' then
  return {text(level()), s.throttled}
end
return redis.error_reply('ycm gate: unknown op ' .. tostring(op))
