-- `redemptions_campaign (campaign_id)` duplicates the leading column of
-- `redemptions_campaign_day (campaign_id, business_day)` (migration 0013),
-- which answers every lookup by campaign as well. Each redemption wrote both;
-- the till's hot path now writes one fewer index entry.
DROP INDEX redemptions_campaign;
