*** Settings ***
Documentation       The catalog: products and warehouses. Writes are commands (202, then
...                 GET /v1/commands/{id}) that the catalog processor applies; reads come
...                 from its state. The tests run in order on one product made in the suite
...                 setup (SKU RF-<suffix>, with a random in-store EAN-13, so reruns on the
...                 same database never collide); the last product test discontinues it.
...                 The warehouse tests upsert the one warehouse RF-ROBOT again on every run.
...                 Money is baht as a decimal string at the edge and satang behind it.
Resource            common.resource
Suite Setup         Catalog Suite Setup


*** Variables ***
${WAREHOUSE_CODE}    RF-ROBOT


*** Test Cases ***
Admin Creates A Product
    ${resp}=    Catalog Write Response    POST    /v1/products    ${PRODUCT}
    ${accepted}=    Command Should Be Accepted For Processing    ${resp}
    ${command}=    Wait For Command    ${ADMIN_TOKEN}    ${accepted}[command_id]
    Should Be Equal    ${command}[command_type]    CreateProduct
    Should Be Equal    ${command}[aggregate_id]    ${SKU}
    ${product}=    Get Product As    ${ADMIN_TOKEN}    ${SKU}
    Product Should Have Shape    ${product}
    Should Be Equal    ${product}[name_th]    ${PRODUCT}[name_th]
    Should Be Equal    ${product}[name_en]    ${PRODUCT}[name_en]
    Should Be Equal    ${product}[category]    ${PRODUCT}[category]
    Should Be Equal    ${product}[barcodes]    ${PRODUCT}[barcodes]
    Should Be Equal    ${product}[status]    active
    Should Be Equal    ${product}[price]    125.50
    Should Be Equal As Integers    ${product}[price_satang]    12550
    Should Be Equal    ${product}[cost]    80.00
    Should Be Equal As Integers    ${product}[cost_satang]    8000

Products Are Found By Thai Text And By Category
    &{params}=    Create Dictionary    q=หุ่นยนต์${SUFFIX}
    ${page}=    List Products As    ${ADMIN_TOKEN}    ${params}
    Length Should Be    ${page}[items]    1
    Should Be Equal    ${page}[items][0][sku]    ${SKU}
    Product Should Have Shape    ${page}[items][0]
    &{params}=    Create Dictionary    category=${PRODUCT}[category]    status=active
    ${page}=    List Products As    ${ADMIN_TOKEN}    ${params}
    Length Should Be    ${page}[items]    1
    Should Be Equal    ${page}[items][0][sku]    ${SKU}
    Should Be Equal    ${page}[next_page_token]    ${NONE}
    &{params}=    Create Dictionary    q=ไม่มีสินค้านี้${SUFFIX}
    ${page}=    List Products As    ${ADMIN_TOKEN}    ${params}
    Should Be Empty    ${page}[items]

Products Are Listed Page By Page
    &{params}=    Create Dictionary    page_size=1
    ${first}=    List Products As    ${ADMIN_TOKEN}    ${params}
    Length Should Be    ${first}[items]    1
    # The suite's product exists, so there is at least one page; a second one
    # exists only when other products do.
    IF    $first['next_page_token'] is not None
        &{params}=    Create Dictionary    page_size=1    page_token=${first}[next_page_token]
        ${second}=    List Products As    ${ADMIN_TOKEN}    ${params}
        Length Should Be    ${second}[items]    1
        Should Be True    $second['items'][0]['sku'] > $first['items'][0]['sku']
    END

Price Changes Are Exact To The Satang
    &{body}=    Create Dictionary    price=19.99
    Catalog Command And Wait    PATCH    /v1/products/${SKU}    ${body}
    ${product}=    Get Product As    ${ADMIN_TOKEN}    ${SKU}
    Should Be Equal    ${product}[price]    19.99
    Should Be Equal As Integers    ${product}[price_satang]    1999
    Should Be Equal As Integers    ${product}[cost_satang]    8000
    &{body}=    Create Dictionary    price=0.1
    Catalog Command And Wait    PATCH    /v1/products/${SKU}    ${body}
    ${product}=    Get Product As    ${ADMIN_TOKEN}    ${SKU}
    Should Be Equal    ${product}[price]    0.10
    Should Be Equal As Integers    ${product}[price_satang]    10

A Price With More Than Two Decimals Fails Validation
    &{body}=    Create Dictionary    price=1.234
    ${resp}=    Catalog Write Response    PATCH    /v1/products/${SKU}    ${body}
    ${error}=    Error Should Be    ${resp}    422    validation_failed
    ${fields}=    Evaluate    [f['field'] for f in $error['fields']]
    Should Be Equal    ${fields}    ${{ ['price'] }}

A Bad Barcode Fails Validation
    ${product}=    New Product Data
    Set To Dictionary    ${product}    barcodes=${{ ['1234567890123'] }}
    ${resp}=    Catalog Write Response    POST    /v1/products    ${product}
    ${error}=    Error Should Be    ${resp}    422    validation_failed
    ${fields}=    Evaluate    [f['field'] for f in $error['fields']]
    List Should Contain Value    ${fields}    barcodes

A Duplicate SKU Is Rejected With A Reason Code
    ${product}=    New Product Data
    Set To Dictionary    ${product}    sku=${SKU}
    ${resp}=    Catalog Write Response    POST    /v1/products    ${product}
    ${accepted}=    Command Should Be Accepted For Processing    ${resp}
    ${command}=    Wait For Command    ${ADMIN_TOKEN}    ${accepted}[command_id]    rejected
    # The catalog processor's stable reason codes: docs/catalog.md.
    Should Be Equal    ${command}[reason_code]    sku_exists

A Report Viewer Reads The Catalog But Cannot Change It
    ${viewer}=    Create Fresh User    report_viewer
    ${tokens}=    Login As    ${viewer}[username]    ${viewer}[password]
    ${token}=    Set Variable    ${tokens}[access_token]
    ${product}=    Get Product As    ${token}    ${SKU}
    Should Be Equal    ${product}[sku]    ${SKU}
    ${headers}=    Bearer    ${token}
    ${resp}=    GET On Session    api    /v1/warehouses    headers=${headers}    expected_status=200
    ${new}=    New Product Data
    ${resp}=    Catalog Write Response    POST    /v1/products    ${new}    token=${token}
    Error Should Be    ${resp}    403    forbidden
    &{body}=    Create Dictionary    price=1.00
    ${resp}=    Catalog Write Response    PATCH    /v1/products/${SKU}    ${body}    token=${token}
    Error Should Be    ${resp}    403    forbidden
    ${warehouse}=    Warehouse Data    Robot
    ${resp}=    Catalog Write Response    PUT    /v1/warehouses/${WAREHOUSE_CODE}    ${warehouse}
    ...    token=${token}
    Error Should Be    ${resp}    403    forbidden

Admin Discontinues The Product
    &{body}=    Create Dictionary    reason=robot test
    Catalog Command And Wait    POST    /v1/products/${SKU}/discontinue    ${body}
    ${product}=    Get Product As    ${ADMIN_TOKEN}    ${SKU}
    Should Be Equal    ${product}[status]    discontinued
    # A discontinued product can no longer be changed.
    &{body}=    Create Dictionary    price=1.00
    ${resp}=    Catalog Write Response    PATCH    /v1/products/${SKU}    ${body}
    ${accepted}=    Command Should Be Accepted For Processing    ${resp}
    ${command}=    Wait For Command    ${ADMIN_TOKEN}    ${accepted}[command_id]    rejected
    Should Be Equal    ${command}[reason_code]    product_discontinued

Admin Upserts A Warehouse With An Idempotency-Key
    ${warehouse}=    Warehouse Data    Robot ${SUFFIX}
    ${key}=    Set Variable    rf-warehouse-${SUFFIX}
    ${first}=    Catalog Write Response    PUT    /v1/warehouses/${WAREHOUSE_CODE}    ${warehouse}
    ...    idempotency_key=${key}
    ${accepted}=    Command Should Be Accepted For Processing    ${first}
    ${again}=    Catalog Write Response    PUT    /v1/warehouses/${WAREHOUSE_CODE}    ${warehouse}
    ...    idempotency_key=${key}
    ${replayed}=    Command Should Be Accepted For Processing    ${again}
    Should Be Equal    ${replayed}[command_id]    ${accepted}[command_id]
    Should Be Equal    ${again.headers}[Idempotent-Replayed]    true
    ${command}=    Wait For Command    ${ADMIN_TOKEN}    ${accepted}[command_id]
    Should Be Equal    ${command}[command_type]    UpsertWarehouse
    Should Be Equal    ${command}[aggregate_id]    warehouse:${WAREHOUSE_CODE}
    ${headers}=    Bearer    ${ADMIN_TOKEN}
    ${resp}=    GET On Session    api    /v1/warehouses/${WAREHOUSE_CODE}    headers=${headers}
    ...    expected_status=200
    Warehouse Should Have Shape    ${resp.json()}
    Should Be Equal    ${resp.json()}[name_en]    Robot ${SUFFIX}
    Should Be Equal    ${resp.json()}[name_th]    คลังทดสอบ Robot ${SUFFIX}
    Should Be True    ${resp.json()}[active]

Warehouses Are Listed
    ${headers}=    Bearer    ${ADMIN_TOKEN}
    &{params}=    Create Dictionary    active=true    page_size=100
    ${resp}=    GET On Session    api    /v1/warehouses    params=${params}    headers=${headers}
    ...    expected_status=200
    ${codes}=    Evaluate    [w['code'] for w in $resp.json()['items']]
    List Should Contain Value    ${codes}    ${WAREHOUSE_CODE}
    ${sorted}=    Evaluate    sorted($codes)
    Should Be Equal    ${codes}    ${sorted}

A Bad Warehouse Code Fails Validation
    ${warehouse}=    Warehouse Data    Robot
    ${resp}=    Catalog Write Response    PUT    /v1/warehouses/rf-lower    ${warehouse}
    ${error}=    Error Should Be    ${resp}    422    validation_failed
    Should Be Equal    ${error}[fields][0][field]    code

Unknown Products And Warehouses Are Not Found
    ${headers}=    Bearer    ${ADMIN_TOKEN}
    ${resp}=    GET On Session    api    /v1/products/RF-NONE-${SUFFIX}    headers=${headers}
    ...    expected_status=anything
    Error Should Be    ${resp}    404    product_not_found
    ${resp}=    GET On Session    api    /v1/warehouses/RF-NONE    headers=${headers}
    ...    expected_status=anything
    Error Should Be    ${resp}    404    warehouse_not_found


*** Keywords ***
Catalog Suite Setup
    Open API Session
    ${suffix}=    Unique Suffix
    ${suffix}=    Convert To Upper Case    ${suffix}
    Set Suite Variable    ${SUFFIX}    ${suffix}
    ${product}=    New Product Data    ${suffix}
    Set To Dictionary    ${product}    price=125.50    cost=80
    Set Suite Variable    ${SKU}    ${product}[sku]
    Set Suite Variable    ${PRODUCT}    ${product}

Random EAN-13
    [Documentation]    A valid EAN-13 in the in-store range (prefix 2), random enough that
    ...    reruns on the same database do not collide on barcode_taken.
    ${code}=    Evaluate
    ...    (lambda d: d + str((10 - sum(int(c) * (3 if i % 2 else 1) for i, c in enumerate(d)) % 10) % 10))('2' + ''.join(random.choice('0123456789') for _ in range(11)))
    ...    modules=random
    RETURN    ${code}

New Product Data
    [Documentation]    The body of POST /v1/products for a product nobody has created yet:
    ...    SKU RF-${suffix}, and ${suffix} in its Thai name and its category, so that
    ...    `q=` and `category=` find exactly it.
    [Arguments]    ${suffix}=${NONE}
    IF    $suffix is None
        ${suffix}=    Unique Suffix
        ${suffix}=    Convert To Upper Case    ${suffix}
    END
    ${barcode}=    Random EAN-13
    @{barcodes}=    Create List    ${barcode}
    &{product}=    Create Dictionary
    ...    sku=RF-${suffix}
    ...    name_th=น้ำดื่มหุ่นยนต์${suffix}
    ...    name_en=Robot water ${suffix}
    ...    description=สินค้าทดสอบของ Robot Framework
    ...    category=หมวดทดสอบ${suffix}
    ...    unit=ขวด
    ...    barcodes=${barcodes}
    ...    price=10.00
    ...    cost=5.00
    ...    min_stock=${0}
    RETURN    ${product}

Warehouse Data
    [Documentation]    The body of PUT /v1/warehouses/{code}.
    [Arguments]    ${name}
    &{warehouse}=    Create Dictionary
    ...    name_th=คลังทดสอบ ${name}
    ...    name_en=${name}
    ...    address=1 ถนนทดสอบ กรุงเทพฯ 10100
    ...    active=${True}
    RETURN    ${warehouse}

Catalog Write Response
    [Documentation]    A catalog write (POST, PATCH or PUT ${path} with ${body}) as ${token}
    ...    (default the admin), whatever the status.
    [Arguments]    ${method}    ${path}    ${body}    ${token}=${ADMIN_TOKEN}    ${idempotency_key}=${NONE}
    ${headers}=    Bearer    ${token}
    IF    $idempotency_key is not None
        Set To Dictionary    ${headers}    Idempotency-Key=${idempotency_key}
    END
    IF    '${method}' == 'PATCH'
        ${resp}=    PATCH On Session    api    ${path}    json=${body}    headers=${headers}
        ...    expected_status=anything
    ELSE IF    '${method}' == 'PUT'
        ${resp}=    PUT On Session    api    ${path}    json=${body}    headers=${headers}
        ...    expected_status=anything
    ELSE
        ${resp}=    POST On Session    api    ${path}    json=${body}    headers=${headers}
        ...    expected_status=anything
    END
    RETURN    ${resp}

Catalog Command And Wait
    [Documentation]    A catalog write as the admin that must be accepted for processing
    ...    and then accepted. Returns the command's final state.
    [Arguments]    ${method}    ${path}    ${body}
    ${resp}=    Catalog Write Response    ${method}    ${path}    ${body}
    ${accepted}=    Command Should Be Accepted For Processing    ${resp}
    ${command}=    Wait For Command    ${ADMIN_TOKEN}    ${accepted}[command_id]
    RETURN    ${command}

Get Product As
    [Documentation]    GET /v1/products/{sku} as ${token}; must be 200.
    [Arguments]    ${token}    ${sku}
    ${headers}=    Bearer    ${token}
    ${resp}=    GET On Session    api    /v1/products/${sku}    headers=${headers}    expected_status=200
    RETURN    ${resp.json()}

List Products As
    [Documentation]    GET /v1/products with the query ${params} as ${token}; must be 200.
    [Arguments]    ${token}    ${params}
    ${headers}=    Bearer    ${token}
    ${resp}=    GET On Session    api    /v1/products    params=${params}    headers=${headers}
    ...    expected_status=200
    ${page}=    Set Variable    ${resp.json()}
    Dictionary Should Contain Key    ${page}    items
    Dictionary Should Contain Key    ${page}    next_page_token
    RETURN    ${page}

Product Should Have Shape
    [Documentation]    The contract's product JSON.
    [Arguments]    ${product}
    FOR    ${field}    IN    sku    name_th    name_en    description    category    unit
    ...    barcodes    price    price_satang    cost    cost_satang    min_stock    status
    ...    version    created_at    updated_at
        Dictionary Should Contain Key    ${product}    ${field}    msg=product lacks ${field}: ${product}
    END

Warehouse Should Have Shape
    [Documentation]    The contract's warehouse JSON.
    [Arguments]    ${warehouse}
    FOR    ${field}    IN    code    name_th    name_en    address    active    version
    ...    created_at    updated_at
        Dictionary Should Contain Key    ${warehouse}    ${field}    msg=warehouse lacks ${field}: ${warehouse}
    END
