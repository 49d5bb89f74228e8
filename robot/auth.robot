*** Settings ***
Documentation       Sign-in, tokens and sessions (POST /v1/auth/*, JWKS). Failed logins
...                 use a user of this suite, never the admin, so that reruns cannot lock
...                 the admin out.
Resource            common.resource
Suite Setup         Auth Suite Setup


*** Test Cases ***
Admin Logs In And Gets An EdDSA Access Token
    ${tokens}=    Login As    ${ADMIN_LOGIN}    ${ADMIN_PASSWORD}
    ${header}=    JWT Part    ${tokens}[access_token]    0
    Should Be Equal    ${header}[alg]    EdDSA
    Should Be Equal    ${header}[typ]    at+jwt
    Should Not Be Empty    ${header}[kid]
    ${claims}=    JWT Part    ${tokens}[access_token]    1
    Should Be Equal    ${claims}[iss]    khlang
    Should Be Equal    ${claims}[aud]    khlang-api
    Should Be Equal    ${claims}[role]    admin
    FOR    ${claim}    IN    sub    sid    scope    exp    nbf    iat    jti
        Dictionary Should Contain Key    ${claims}    ${claim}
    END
    ${me}=    Me Response    ${tokens}[access_token]
    Status Should Be    200    ${me}
    Should Be Equal    ${me.json()}[user_id]    ${claims}[sub]

A User Logs In With Username Or Email
    Login As    ${MEMBER}[username]    ${MEMBER}[password]
    Login As    ${MEMBER}[email]    ${MEMBER}[password]

Wrong Password Is Rejected As Invalid Credentials
    &{headers}=    Create Dictionary    X-Correlation-Id=robot-wrong-password
    &{body}=    Create Dictionary    login=${MEMBER}[username]    password=not-the-password
    ${resp}=    POST On Session    api    /v1/auth/login    json=${body}    headers=${headers}
    ...    expected_status=anything
    ${error}=    Error Should Be    ${resp}    401    invalid_credentials
    Should Be Equal    ${resp.headers}[X-Correlation-Id]    robot-wrong-password
    Should Be Equal    ${error}[correlation_id]    robot-wrong-password

Unknown Login Is Rejected Like A Wrong Password
    ${suffix}=    Unique Suffix
    ${resp}=    Login Response    nobody${suffix}@example.com    not-the-password
    Error Should Be    ${resp}    401    invalid_credentials

Requests Without A Valid Token Are Unauthenticated
    ${resp}=    GET On Session    api    /v1/me    expected_status=anything
    Error Should Be    ${resp}    401    unauthenticated
    ${resp}=    Me Response    not.a.jwt
    Error Should Be    ${resp}    401    invalid_token

Refresh Rotates The Refresh Token
    ${first}=    Login As    ${MEMBER}[username]    ${MEMBER}[password]
    ${resp}=    Refresh Response    ${first}[refresh_token]
    Status Should Be    200    ${resp}
    ${second}=    Set Variable    ${resp.json()}
    Token Response Should Be Valid    ${second}
    Should Not Be Equal    ${second}[refresh_token]    ${first}[refresh_token]
    ${me}=    Me Response    ${second}[access_token]
    Status Should Be    200    ${me}
    Should Be Equal    ${me.json()}[user_id]    ${MEMBER}[user_id]

Reusing A Rotated Refresh Token Revokes The Whole Family
    ${first}=    Login As    ${MEMBER}[username]    ${MEMBER}[password]
    ${resp}=    Refresh Response    ${first}[refresh_token]
    Status Should Be    200    ${resp}
    ${second}=    Set Variable    ${resp.json()}
    # The old token again: a stolen copy is being replayed.
    ${resp}=    Refresh Response    ${first}[refresh_token]
    Error Should Be    ${resp}    401    refresh_token_reused
    # The newest refresh token of the family is dead too ...
    ${resp}=    Refresh Response    ${second}[refresh_token]
    Status Should Be    401    ${resp}
    # ... and so is the session's access token.
    ${resp}=    Me Response    ${second}[access_token]
    Error Should Be    ${resp}    401    session_revoked

Logout Revokes The Session At Once
    ${tokens}=    Login As    ${MEMBER}[username]    ${MEMBER}[password]
    ${headers}=    Bearer    ${tokens}[access_token]
    ${resp}=    POST On Session    api    /v1/auth/logout    headers=${headers}    expected_status=204
    ${resp}=    Me Response    ${tokens}[access_token]
    Error Should Be    ${resp}    401    session_revoked
    ${resp}=    Refresh Response    ${tokens}[refresh_token]
    Status Should Be    401    ${resp}

JWKS Publishes The Ed25519 Signing Keys
    ${resp}=    GET On Session    api    /.well-known/jwks.json    expected_status=200
    ${keys}=    Set Variable    ${resp.json()}[keys]
    Should Not Be Empty    ${keys}
    ${kids}=    Create List
    FOR    ${key}    IN    @{keys}
        Should Be Equal    ${key}[kty]    OKP
        Should Be Equal    ${key}[crv]    Ed25519
        Should Be Equal    ${key}[alg]    EdDSA
        Should Be Equal    ${key}[use]    sig
        Should Not Be Empty    ${key}[x]
        Should Not Be Empty    ${key}[kid]
        Append To List    ${kids}    ${key}[kid]
    END
    # Whatever signs the tokens must be published.
    ${header}=    JWT Part    ${ADMIN_TOKEN}    0
    List Should Contain Value    ${kids}    ${header}[kid]


*** Keywords ***
Auth Suite Setup
    Open API Session
    ${user}=    Create Fresh User    warehouse_staff
    Set Suite Variable    ${MEMBER}    ${user}
