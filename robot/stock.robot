*** Settings ***
Documentation       Stock flows through the API: receive, reserve, commit, transfer,
...                 the ledger, a refused oversell and a scanner batch. Each run makes
...                 its own SKU and warehouses, so it can run again on one database.
Resource            common.resource
Suite Setup         Prepare Stock


*** Variables ***
${MIN}      ${5}


*** Keywords ***
Prepare Stock
    Open API Session
    ${suffix}=    Unique Suffix
    ${short}=    Evaluate    $suffix[-6:].upper()
    Set Suite Variable    ${WH_A}    RA${short}
    Set Suite Variable    ${WH_B}    RB${short}
    Set Suite Variable    ${SKU}    RF-${short}
    FOR    ${code}    IN    ${WH_A}    ${WH_B}
        &{wh}=    Create Dictionary    name_th=คลังทดสอบ ${code}    name_en=Robot ${code}
        ...    address=Bangkok    active=${True}
        ${headers}=    Bearer    ${ADMIN_TOKEN}
        ${resp}=    PUT On Session    api    /v1/warehouses/${code}    json=${wh}
        ...    headers=${headers}    expected_status=anything
        ${accepted}=    Command Should Be Accepted For Processing    ${resp}
        Wait For Command    ${ADMIN_TOKEN}    ${accepted}[command_id]
    END
    ${ean}=    EAN13 For    ${suffix}
    @{barcodes}=    Create List    ${ean}
    &{product}=    Create Dictionary    sku=${SKU}    name_th=น้ำดื่มทดสอบ    name_en=Robot water
    ...    category=drinks    unit=bottle    barcodes=${barcodes}    price=12.50    cost=8.00
    ...    min_stock=${MIN}
    Admin Command And Wait    POST    /v1/products    ${product}

EAN13 For
    [Documentation]    A valid EAN-13 made from the digits of ${seed}.
    [Arguments]    ${seed}
    ${code}=    Evaluate
    ...    (lambda b: b + str((10 - sum(int(c) * (1 if i % 2 == 0 else 3) for i, c in enumerate(b)) % 10) % 10))(('885' + ''.join(ch for ch in $seed if ch.isdigit()))[-12:].rjust(12, '0'))
    RETURN    ${code}

Stock Command
    [Documentation]    POST a stock write as the admin; returns the final command body.
    [Arguments]    ${path}    ${body}    ${expected}=accepted
    ${headers}=    Bearer    ${ADMIN_TOKEN}
    ${resp}=    POST On Session    api    ${path}    json=${body}    headers=${headers}
    ...    expected_status=anything
    ${accepted}=    Command Should Be Accepted For Processing    ${resp}
    ${command}=    Wait For Command    ${ADMIN_TOKEN}    ${accepted}[command_id]    ${expected}
    RETURN    ${command}

Level At
    [Documentation]    The levels of ${SKU} at ${warehouse}.
    [Arguments]    ${warehouse}
    ${headers}=    Bearer    ${ADMIN_TOKEN}
    ${resp}=    GET On Session    api    /v1/stock/items/${SKU}    headers=${headers}
    ...    expected_status=200
    FOR    ${level}    IN    @{resp.json()}
        IF    '${level}[warehouse]' == '${warehouse}'    RETURN    ${level}
    END
    Fail    no level of ${SKU} at ${warehouse}


In Transit Should Be
    [Arguments]    ${warehouse}    ${expected}
    ${level}=    Level At    ${warehouse}
    Should Be Equal As Integers    ${level}[in_transit]    ${expected}


*** Test Cases ***
Receive Adds To On Hand
    &{body}=    Create Dictionary    sku=${SKU}    warehouse=${WH_A}    quantity=${20}    reference=PO-RF-1
    Stock Command    /v1/stock/receipts    ${body}
    ${level}=    Level At    ${WH_A}
    Should Be Equal As Integers    ${level}[on_hand]    20
    Should Be Equal As Integers    ${level}[available]    20
    Should Be Equal As Integers    ${level}[minimum]    ${MIN}

Reserve Then Commit
    &{body}=    Create Dictionary    sku=${SKU}    warehouse=${WH_A}    quantity=${5}    ttl_seconds=${600}
    ...    order_ref=ORDER-1/1
    ${headers}=    Bearer    ${ADMIN_TOKEN}
    ${resp}=    POST On Session    api    /v1/stock/reservations    json=${body}    headers=${headers}
    ...    expected_status=202
    ${reservation}=    Set Variable    ${resp.json()}[reservation_id]
    Wait For Command    ${ADMIN_TOKEN}    ${resp.json()}[command_id]
    ${level}=    Level At    ${WH_A}
    Should Be Equal As Integers    ${level}[reserved]    5
    Should Be Equal As Integers    ${level}[available]    15
    &{commit}=    Create Dictionary    reference=SHIP-1
    Stock Command    /v1/stock/reservations/${reservation}/commit    ${commit}
    ${level}=    Level At    ${WH_A}
    Should Be Equal As Integers    ${level}[on_hand]    15
    Should Be Equal As Integers    ${level}[reserved]    0

More Than Available Cannot Be Reserved
    &{body}=    Create Dictionary    sku=${SKU}    warehouse=${WH_A}    quantity=${1000}    ttl_seconds=${600}
    ${command}=    Stock Command    /v1/stock/reservations    ${body}    rejected
    Should Be Equal    ${command}[reason_code]    insufficient_stock

Transfer Arrives At The Other Warehouse
    &{body}=    Create Dictionary    sku=${SKU}    from_warehouse=${WH_A}    to_warehouse=${WH_B}    quantity=${3}
    ${headers}=    Bearer    ${ADMIN_TOKEN}
    ${resp}=    POST On Session    api    /v1/stock/transfers    json=${body}    headers=${headers}
    ...    expected_status=202
    ${transfer}=    Set Variable    ${resp.json()}[transfer_id]
    Wait For Command    ${ADMIN_TOKEN}    ${resp.json()}[command_id]
    Wait Until Keyword Succeeds    20s    500ms    In Transit Should Be    ${WH_B}    3
    &{empty}=    Create Dictionary
    Stock Command    /v1/stock/transfers/${transfer}/receive    ${empty}
    ${b}=    Level At    ${WH_B}
    Should Be Equal As Integers    ${b}[on_hand]    3
    Should Be Equal As Integers    ${b}[in_transit]    0
    ${a}=    Level At    ${WH_A}
    Should Be Equal As Integers    ${a}[on_hand]    12

The Ledger Shows Every Movement
    ${headers}=    Bearer    ${ADMIN_TOKEN}
    &{params}=    Create Dictionary    sku=${SKU}    warehouse=${WH_A}
    ${resp}=    GET On Session    api    /v1/stock/ledger    params=${params}    headers=${headers}
    ...    expected_status=200
    @{movements}=    Evaluate    [r['movement'] for r in $resp.json()['items']]
    Should Be Equal    ${movements}    ${{['Received', 'Reserved', 'Committed', 'TransferredOut']}}

A Scanner Batch Answers Per Line
    ${suffix}=    Unique Suffix
    @{scopes}=    Create List    scans:write    stock:read
    &{account}=    Create Dictionary    username=rfscan${suffix}    display_name=Robot scanner
    ...    kind=device    scopes=${scopes}
    ${headers}=    Bearer    ${ADMIN_TOKEN}
    ${resp}=    POST On Session    api    /v1/service-accounts    json=${account}    headers=${headers}
    ...    expected_status=202
    Wait For Command    ${ADMIN_TOKEN}    ${resp.json()}[command_id]
    ${tokens}=    Login As    rfscan${suffix}    ${resp.json()}[client_secret]
    ${batch}=    Catenate    SEPARATOR=\n
    ...    {"type":"receive","sku":"${SKU}","warehouse":"${WH_B}","quantity":4}
    ...    not json
    ...    {"type":"pick","sku":"${SKU}","warehouse":"${WH_B}"}
    &{scan_headers}=    Create Dictionary    Authorization=Bearer ${tokens}[access_token]
    ...    Content-Type=application/x-ndjson
    ${resp}=    POST On Session    api    /v1/scans    data=${batch.encode('utf-8')}
    ...    headers=${scan_headers}    expected_status=200
    Should Be Equal As Integers    ${resp.json()}[accepted]    1
    Should Be Equal As Integers    ${resp.json()}[rejected]    2
    Should Be Equal    ${resp.json()}[lines][2][error][field]    quantity
    Wait For Command    ${tokens}[access_token]    ${resp.json()}[lines][0][command_id]

