-- Nearest-neighbour search as a function, so supabase-js can call it over PostgREST
-- (`POST /rest/v1/rpc/match_embeddings`); the SQL backends keep their own query (embedding-store.ts)
-- and give the same answers. Runs unchanged on Supabase, plain Postgres and PGlite.
--
-- plpgsql and volatile, not `language sql stable`, on purpose:
-- - it sets ivfflat.probes (lists searched per query; pgvector's default of 1 gives poor recall)
--   with set_config(..., true), which lasts only for the calling transaction (PostgREST runs each
--   request in its own);
-- - with the filter as a parameter the planner guesses `metadata @> $3` keeps 0.1% of rows and
--   picks a sequential scan and sort over the whole table; the unfiltered branch has no such
--   predicate, and plpgsql plans each branch on its own, so it uses the ivfflat index.
-- `metadata @> filter` is applied after the index scan, as in embedding-store.ts: with a selective
-- filter fewer than match_count rows can come back.
create or replace function match_embeddings(
  query_embedding vector(384),
  match_count integer,
  filter jsonb default '{}'::jsonb,
  probes integer default 10
)
returns table (id bigint, content text, model_id text, metadata jsonb, distance double precision)
language plpgsql
volatile
as $$
begin
  perform set_config('ivfflat.probes', greatest(1, probes)::text, true);
  if filter is null or filter = '{}'::jsonb then
    return query
      select e.id, e.content, e.model_id, e.metadata, e.embedding <=> query_embedding
        from embeddings e
       order by e.embedding <=> query_embedding
       limit greatest(1, match_count);
  else
    return query
      select e.id, e.content, e.model_id, e.metadata, e.embedding <=> query_embedding
        from embeddings e
       where e.metadata @> filter
       order by e.embedding <=> query_embedding
       limit greatest(1, match_count);
  end if;
end;
$$;
