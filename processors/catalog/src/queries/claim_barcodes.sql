-- Sorted, so that two transactions claiming overlapping sets lock in the
-- same order. ON CONFLICT DO NOTHING waits for an uncommitted claim of the
-- same barcode to finish: exactly one of two concurrent claims wins.
INSERT INTO catalog.product_barcodes (barcode, sku)
SELECT barcode, $1 FROM unnest($2::text[]) AS barcode ORDER BY barcode
ON CONFLICT (barcode) DO NOTHING
