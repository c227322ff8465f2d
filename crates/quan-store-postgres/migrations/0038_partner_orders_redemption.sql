-- A redemption's partner order, found when a till refunds it (issue 27):
-- the partner is told by a refund.succeeded event.
CREATE INDEX partner_orders_redemption ON partner_orders (redemption_id);
