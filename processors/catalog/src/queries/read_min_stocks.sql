SELECT sku, min_stock FROM catalog.products WHERE sku = ANY($1::text[])
