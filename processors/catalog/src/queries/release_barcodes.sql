DELETE FROM catalog.product_barcodes WHERE sku = $1 AND barcode = ANY($2::text[])
