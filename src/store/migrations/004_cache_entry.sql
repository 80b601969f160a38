-- A cache hit is an attempt (outcome cache-hit, cost 0): this names the cached answer it served,
-- the request id of the attempt that produced it.
alter table model_inferences add column if not exists cache_entry_id text;
