SELECT barcode, sku FROM catalog.product_barcodes
WHERE barcode = ANY($1::text[]) AND sku <> $2
ORDER BY barcode
