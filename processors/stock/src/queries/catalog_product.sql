SELECT status, min_stock FROM catalog.products WHERE sku = $1
