-- Each row is one attempt (DESIGN §1 step 9): what became of it, when its first token came, and
-- which quality checks its answer failed. Existing rows keep null: unknown, not "answered".
alter table model_inferences add column if not exists outcome text;
alter table model_inferences add column if not exists ttft_ms integer;
alter table model_inferences add column if not exists quality_reasons text;
