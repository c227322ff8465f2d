-- Where the resident was when they claimed (the district their position
-- fell in, when the batch asked for one): the T+1 report counts vouchers
-- issued and residents who claimed by district from it (issue 21). Empty
-- for claims made without a position and for lottery winners' vouchers.
ALTER TABLE vouchers ADD COLUMN claim_district TEXT;
