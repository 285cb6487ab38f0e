-- One Postgres role per service, each with only its own schema (docker-compose.yml, job
-- `postgres-roles`; run by the superuser with psql on every `compose up`, so it is idempotent and
-- a changed password in .env takes effect). psql variables: :'orders_owner_password',
-- :'orders_app_password', :'inventory_password', :'payment_password'.
--
--   orders_owner  owns the order service's tables (schema public); runs the migrations only
--   orders_app    the order service's processes (api, worker, relay, email, analytics): read and
--                 write the rows of schema public, no DDL, nothing of inventory or payment
--   inventory     owns schema inventory (the service creates its tables there on start)
--   payment       owns schema payment
-- The order service's processes share one role: they are one service over one schema, deployed
-- together; the boundary that matters is between services (README, "Docker").
\set ON_ERROR_STOP on

DO $$
DECLARE r text;
BEGIN
  FOREACH r IN ARRAY ARRAY['orders_owner', 'orders_app', 'inventory', 'payment'] LOOP
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = r) THEN
      EXECUTE format('CREATE ROLE %I LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE', r);
    END IF;
  END LOOP;
  -- Only our roles (and the superuser) may connect to this database; nobody else may create in it.
  EXECUTE format('REVOKE ALL ON DATABASE %I FROM PUBLIC', current_database());
  EXECUTE format('GRANT CONNECT ON DATABASE %I TO orders_owner, orders_app, inventory, payment', current_database());
END $$;

ALTER ROLE orders_owner PASSWORD :'orders_owner_password';
ALTER ROLE orders_app PASSWORD :'orders_app_password';
ALTER ROLE inventory PASSWORD :'inventory_password';
ALTER ROLE payment PASSWORD :'payment_password';

-- The peers: each owns its schema and nothing else.
CREATE SCHEMA IF NOT EXISTS inventory AUTHORIZATION inventory;
ALTER SCHEMA inventory OWNER TO inventory;
REVOKE ALL ON SCHEMA inventory FROM PUBLIC;
CREATE SCHEMA IF NOT EXISTS payment AUTHORIZATION payment;
ALTER SCHEMA payment OWNER TO payment;
REVOKE ALL ON SCHEMA payment FROM PUBLIC;

-- The order service: orders_owner owns schema public and what the migrations create in it.
REVOKE ALL ON SCHEMA public FROM PUBLIC;
ALTER SCHEMA public OWNER TO orders_owner;
GRANT USAGE ON SCHEMA public TO orders_app;
-- Objects created before this role split (by the superuser) move to their schema's owner.
DO $$
DECLARE o record;
BEGIN
  FOR o IN SELECT n.nspname, c.relname, c.relkind, pg_get_userbyid(n.nspowner) AS owner FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
           WHERE n.nspname IN ('public', 'inventory', 'payment') AND c.relkind IN ('r', 'p', 'S', 'v') AND c.relowner <> n.nspowner LOOP
    EXECUTE format('ALTER %s %I.%I OWNER TO %I', CASE o.relkind WHEN 'S' THEN 'SEQUENCE' WHEN 'v' THEN 'VIEW' ELSE 'TABLE' END, o.nspname, o.relname, o.owner);
  END LOOP;
  FOR o IN SELECT n.nspname, t.typname, pg_get_userbyid(n.nspowner) AS owner FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace
           WHERE n.nspname IN ('public', 'inventory', 'payment') AND t.typtype = 'e' AND t.typowner <> n.nspowner LOOP
    EXECUTE format('ALTER TYPE %I.%I OWNER TO %I', o.nspname, o.typname, o.owner);
  END LOOP;
  FOR o IN SELECT p.oid::regprocedure AS fn, pg_get_userbyid(n.nspowner) AS owner FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
           WHERE n.nspname IN ('public', 'inventory', 'payment') AND p.proowner <> n.nspowner LOOP
    EXECUTE format('ALTER FUNCTION %s OWNER TO %I', o.fn, o.owner);
  END LOOP;
END $$;

-- Rows, not structure, for the processes: on every table the owner has or will create.
GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO orders_app;
GRANT USAGE, SELECT, UPDATE ON ALL SEQUENCES IN SCHEMA public TO orders_app;
ALTER DEFAULT PRIVILEGES FOR ROLE orders_owner IN SCHEMA public GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO orders_app;
ALTER DEFAULT PRIVILEGES FOR ROLE orders_owner IN SCHEMA public GRANT USAGE, SELECT, UPDATE ON SEQUENCES TO orders_app;

