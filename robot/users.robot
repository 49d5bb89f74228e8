*** Settings ***
Documentation       Users: writes are commands (202, then GET /v1/commands/{id}), reads
...                 come from the users processor's state. The tests run in order on the
...                 users made in the suite setup (SUBJECT, a warehouse_staff member, and
...                 VIEWER, a report_viewer); the last one deactivates SUBJECT.
Resource            common.resource
Suite Setup         Users Suite Setup


*** Test Cases ***
Admin Creates A User
    ${user}=    New User Data    warehouse_staff
    ${resp}=    Create User Response    ${ADMIN_TOKEN}    ${user}
    ${accepted}=    Command Should Be Accepted For Processing    ${resp}
    ${command}=    Wait For Command    ${ADMIN_TOKEN}    ${accepted}[command_id]
    Should Be Equal    ${command}[aggregate_id]    ${accepted}[user_id]
    Should Not Be Empty    ${command}[command_type]
    ${created}=    Get User As    ${ADMIN_TOKEN}    ${accepted}[user_id]
    User Should Have Shape    ${created}
    Should Be Equal    ${created}[email]    ${user}[email]
    Should Be Equal    ${created}[username]    ${user}[username]
    Should Be Equal    ${created}[display_name]    ${user}[display_name]
    Should Be Equal    ${created}[role]    warehouse_staff
    Should Be True    ${created}[active]
    Dictionary Should Not Contain Key    ${created}    password

The New User Logs In And Reads Itself
    ${tokens}=    Login As    ${SUBJECT}[username]    ${SUBJECT}[password]
    ${resp}=    Me Response    ${tokens}[access_token]
    Status Should Be    200    ${resp}
    ${me}=    Set Variable    ${resp.json()}
    User Should Have Shape    ${me}
    Should Be Equal    ${me}[user_id]    ${SUBJECT}[user_id]
    Should Be Equal    ${me}[email]    ${SUBJECT}[email]
    Should Be Equal    ${me}[role]    warehouse_staff
    Should Be True    ${me}[active]
    # A person's scopes come from the role, in the token; `scopes` of the
    # user lists what a service or device account was granted.
    ${scopes}=    Token Scopes    ${tokens}[access_token]
    FOR    ${scope}    IN    stock:read    stock:write    catalog:read
        List Should Contain Value    ${scopes}    ${scope}
    END
    List Should Not Contain Value    ${scopes}    users:read

Admin Lists Users With A Filter And A Page Size
    # The suite setup made two users whose names carry ${TAG}, nobody else's do.
    ${first}=    List Users As    ${ADMIN_TOKEN}    q=${TAG}    page_size=1
    Length Should Be    ${first}[items]    1
    Should Not Be Equal    ${first}[next_page_token]    ${NONE}
    ${second}=    List Users As    ${ADMIN_TOKEN}    q=${TAG}    page_size=1
    ...    page_token=${first}[next_page_token]
    Length Should Be    ${second}[items]    1
    ${ids}=    Create List    ${first}[items][0][user_id]    ${second}[items][0][user_id]
    List Should Not Contain Duplicates    ${ids}
    List Should Contain Value    ${ids}    ${SUBJECT}[user_id]
    List Should Contain Value    ${ids}    ${VIEWER}[user_id]
    IF    $second['next_page_token'] is not None
        ${third}=    List Users As    ${ADMIN_TOKEN}    q=${TAG}    page_size=1
        ...    page_token=${second}[next_page_token]
        Should Be Empty    ${third}[items]
    END
    # Filters combine: the other user is a report viewer.
    ${viewers}=    List Users As    ${ADMIN_TOKEN}    q=${TAG}    role=report_viewer    active=true
    ...    page_size=100
    Length Should Be    ${viewers}[items]    1
    Should Be Equal    ${viewers}[items][0][user_id]    ${VIEWER}[user_id]
    User Should Have Shape    ${viewers}[items][0]

Admin Changes The Role
    &{body}=    Create Dictionary    role=manager
    Admin Command And Wait    POST    /v1/users/${SUBJECT}[user_id]/role    ${body}
    ${user}=    Get User As    ${ADMIN_TOKEN}    ${SUBJECT}[user_id]
    Should Be Equal    ${user}[role]    manager
    # The next sign-in carries the new role's scopes.
    ${tokens}=    Login As    ${SUBJECT}[username]    ${SUBJECT}[password]
    ${claims}=    JWT Part    ${tokens}[access_token]    1
    Should Be Equal    ${claims}[role]    manager
    ${scopes}=    Token Scopes    ${tokens}[access_token]
    List Should Contain Value    ${scopes}    users:read
    List Should Not Contain Value    ${scopes}    users:write

Admin Changes The Display Name
    ${before}=    Get User As    ${ADMIN_TOKEN}    ${SUBJECT}[user_id]
    ${suffix}=    Unique Suffix
    &{body}=    Create Dictionary    display_name=Renamed ${suffix}
    Admin Command And Wait    PATCH    /v1/users/${SUBJECT}[user_id]    ${body}
    ${after}=    Get User As    ${ADMIN_TOKEN}    ${SUBJECT}[user_id]
    Should Be Equal    ${after}[display_name]    Renamed ${suffix}
    Should Be Equal    ${after}[email]    ${before}[email]
    Should Be True    ${after}[version] > ${before}[version]

A Non-Admin May Read Users But Not Create Them
    ${tokens}=    Login As    ${SUBJECT}[username]    ${SUBJECT}[password]
    ${user}=    New User Data    warehouse_staff
    ${resp}=    Create User Response    ${tokens}[access_token]    ${user}
    Error Should Be    ${resp}    403    forbidden
    # A manager has users:read.
    Get User As    ${tokens}[access_token]    ${VIEWER}[user_id]
    # Somebody else's command does not exist for a non-admin.
    ${headers}=    Bearer    ${tokens}[access_token]
    ${resp}=    GET On Session    api    /v1/commands/${VIEWER_COMMAND_ID}    headers=${headers}
    ...    expected_status=anything
    Error Should Be    ${resp}    404    command_not_found

A Report Viewer Cannot List Users
    ${tokens}=    Login As    ${VIEWER}[username]    ${VIEWER}[password]
    ${headers}=    Bearer    ${tokens}[access_token]
    ${resp}=    GET On Session    api    /v1/users    headers=${headers}    expected_status=anything
    Error Should Be    ${resp}    403    forbidden

A Duplicate Email Is Rejected With A Reason Code
    ${user}=    New User Data    warehouse_staff
    Set To Dictionary    ${user}    email=${SUBJECT}[email]
    ${resp}=    Create User Response    ${ADMIN_TOKEN}    ${user}
    ${accepted}=    Command Should Be Accepted For Processing    ${resp}
    ${command}=    Wait For Command    ${ADMIN_TOKEN}    ${accepted}[command_id]    rejected
    # The users processor's stable reason codes: processors/users/src/reasons.rs.
    Should Be Equal    ${command}[reason_code]    email_taken

An Invalid Body Fails Validation Field By Field
    ${user}=    New User Data    warehouse_staff
    Set To Dictionary    ${user}    email=not-an-email
    ${resp}=    Create User Response    ${ADMIN_TOKEN}    ${user}
    ${error}=    Error Should Be    ${resp}    422    validation_failed
    ${fields}=    Evaluate    [f['field'] for f in $error['fields']]
    List Should Contain Value    ${fields}    email

An Idempotency-Key Replays The Same Command
    ${user}=    New User Data    warehouse_staff
    ${key}=    Unique Suffix
    ${first}=    Create User Response    ${ADMIN_TOKEN}    ${user}    idempotency_key=rf-${key}
    ${accepted}=    Command Should Be Accepted For Processing    ${first}
    ${again}=    Create User Response    ${ADMIN_TOKEN}    ${user}    idempotency_key=rf-${key}
    ${replayed}=    Command Should Be Accepted For Processing    ${again}
    Should Be Equal    ${replayed}[command_id]    ${accepted}[command_id]
    Should Be Equal    ${replayed}[user_id]    ${accepted}[user_id]
    Should Be Equal    ${again.headers}[Idempotent-Replayed]    true
    # The same key with another body is a client bug, not a replay.
    Set To Dictionary    ${user}    display_name=Somebody Else
    ${resp}=    Create User Response    ${ADMIN_TOKEN}    ${user}    idempotency_key=rf-${key}
    Error Should Be    ${resp}    422    idempotency_key_reused
    Wait For Command    ${ADMIN_TOKEN}    ${accepted}[command_id]

Unknown Ids Are Not Found
    ${id}=    Evaluate    str(uuid.uuid4())    modules=uuid
    ${headers}=    Bearer    ${ADMIN_TOKEN}
    ${resp}=    GET On Session    api    /v1/users/${id}    headers=${headers}    expected_status=anything
    Error Should Be    ${resp}    404    user_not_found
    ${resp}=    GET On Session    api    /v1/commands/${id}    headers=${headers}    expected_status=anything
    Error Should Be    ${resp}    404    command_not_found

A Deactivated User Can No Longer Log In
    &{body}=    Create Dictionary    reason=robot test
    Admin Command And Wait    POST    /v1/users/${SUBJECT}[user_id]/deactivate    ${body}
    ${user}=    Get User As    ${ADMIN_TOKEN}    ${SUBJECT}[user_id]
    Should Not Be True    ${user}[active]
    ${resp}=    Login Response    ${SUBJECT}[username]    ${SUBJECT}[password]
    Should Be True    ${resp.status_code} in (401, 403)
    ...    msg=expected 401 or 403, got ${resp.status_code}: ${resp.text}
    Error Should Be    ${resp}    ${resp.status_code}    account_inactive


*** Keywords ***
Users Suite Setup
    Open API Session
    # ${TAG} marks this run's users, so that `q=${TAG}` finds exactly them.
    ${tag}=    Generate Random String    8    [LOWER]
    Set Suite Variable    ${TAG}    ${tag}
    ${user}=    Create Fresh User    warehouse_staff    ${tag}
    Set Suite Variable    ${SUBJECT}    ${user}
    ${other}=    New User Data    report_viewer    ${tag}
    ${resp}=    Create User Response    ${ADMIN_TOKEN}    ${other}
    ${accepted}=    Command Should Be Accepted For Processing    ${resp}
    Wait For Command    ${ADMIN_TOKEN}    ${accepted}[command_id]
    Set To Dictionary    ${other}    user_id=${accepted}[user_id]
    Set Suite Variable    ${VIEWER}    ${other}
    Set Suite Variable    ${VIEWER_COMMAND_ID}    ${accepted}[command_id]
