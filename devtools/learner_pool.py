"""Sign-in in the packaged template: the stage's Cognito user pool and the app client learners
sign in with (or an existing pool, given as the LearnerPoolArn parameter), the Cognito authorizer
of the API pointed at that pool, and the app client's id for the function's own check
(chalicelib.learners.identity)."""
from typing import Dict

from chalicelib.learners.identity import AUTHORIZER_NAME

POOL = "LearnerPool"
CLIENT = "LearnerPoolClient"
POOL_ARN = "LearnerPoolArn"  # the parameter: an existing pool's ARN, or empty to create one
CREATE_POOL = "CreateLearnerPool"
# Cognito's own sender allows 50 mails a day per account (sign-up codes, password recovery): a
# launch needs SES. The parameter: a verified SES identity's ARN (same region, or us-east-1,
# us-west-2, eu-west-1), and the address mail comes from.
MAIL_IDENTITY = "LearnerMailSesIdentityArn"
MAIL_FROM = "LearnerMailFrom"
MAIL_BY_SES = "LearnerMailBySes"
MAIL_FROM_SET = "LearnerMailFromSet"
ID_TOKEN_MINUTES = 60


def pool_arn() -> dict:
    return {"Fn::If": [CREATE_POOL, {"Fn::GetAtt": [POOL, "Arn"]}, {"Ref": POOL_ARN}]}


def pool_id() -> dict:
    return {"Fn::Select": [1, {"Fn::Split": ["/", pool_arn()]}]}


def template(protected: bool) -> Dict[str, dict]:
    """Parameters, Conditions, Resources and Outputs to merge into the template."""
    policy = "Retain" if protected else "Delete"
    pool = {
        "Type": "AWS::Cognito::UserPool", "Condition": CREATE_POOL,
        "DeletionPolicy": policy, "UpdateReplacePolicy": policy,
        "Properties": {
            "UserPoolName": {"Fn::Sub": "${AWS::StackName}-learners"},
            "UsernameAttributes": ["email"], "AutoVerifiedAttributes": ["email"],
            "Policies": {"PasswordPolicy": {"MinimumLength": 12, "RequireLowercase": True,
                                            "RequireUppercase": True, "RequireNumbers": True,
                                            "RequireSymbols": True}},
            "MfaConfiguration": "OPTIONAL", "EnabledMfas": ["SOFTWARE_TOKEN_MFA"],
            "AccountRecoverySetting": {"RecoveryMechanisms": [{"Name": "verified_email", "Priority": 1}]},
            "DeletionProtection": "ACTIVE" if protected else "INACTIVE",
            "UserPoolTier": "LITE",  # passwords and TOTP MFA are all it uses; Essentials costs ~3x per user
            "EmailConfiguration": {"Fn::If": [
                MAIL_BY_SES,
                {"EmailSendingAccount": "DEVELOPER", "SourceArn": {"Ref": MAIL_IDENTITY},
                 "From": {"Fn::If": [MAIL_FROM_SET, {"Ref": MAIL_FROM}, {"Ref": "AWS::NoValue"}]}},
                {"EmailSendingAccount": "COGNITO_DEFAULT"}]},
        },
    }
    client = {
        "Type": "AWS::Cognito::UserPoolClient",
        "Properties": {
            "ClientName": {"Fn::Sub": "${AWS::StackName}-portal"},
            "UserPoolId": {"Fn::If": [CREATE_POOL, {"Ref": POOL},
                                      {"Fn::Select": [1, {"Fn::Split": ["/", {"Ref": POOL_ARN}]}]}]},
            # A browser app: no secret. The web client (clients/web) signs in with USER_PASSWORD_AUTH,
            # the one flow whose password check the local Cognito makes too: the password travels
            # to Cognito inside TLS, where SRP would send only a proof. SRP stays allowed for
            # clients that use it (Amplify's default).
            "GenerateSecret": False,
            "ExplicitAuthFlows": ["ALLOW_USER_PASSWORD_AUTH", "ALLOW_USER_SRP_AUTH",
                                  "ALLOW_REFRESH_TOKEN_AUTH"],
            "PreventUserExistenceErrors": "ENABLED",
            "EnableTokenRevocation": True,
            "IdTokenValidity": ID_TOKEN_MINUTES, "AccessTokenValidity": ID_TOKEN_MINUTES,
            "RefreshTokenValidity": 30,
            "TokenValidityUnits": {"IdToken": "minutes", "AccessToken": "minutes", "RefreshToken": "days"},
        },
    }
    return {
        "Parameters": {
            POOL_ARN: {
                "Type": "String", "Default": "",
                "AllowedPattern": "^$|^arn:aws[a-z-]*:cognito-idp:.+:userpool/.+$",
                "Description": "An existing user pool's ARN for the learners; empty: the stack makes one."},
            MAIL_IDENTITY: {
                "Type": "String", "Default": "",
                "AllowedPattern": "^$|^arn:aws[a-z-]*:ses:.+:identity/.+$",
                "Description": "A verified SES identity the pool sends its mail with; empty: Cognito's "
                               "own sender, 50 mails a day per account."},
            MAIL_FROM: {
                "Type": "String", "Default": "",
                "Description": "The From address of the pool's mail through SES, e.g. "
                               "'Lang Portal <no-reply@example.com>'; empty: the identity's address."}},
        "Conditions": {CREATE_POOL: {"Fn::Equals": [{"Ref": POOL_ARN}, ""]},
                       MAIL_BY_SES: {"Fn::Not": [{"Fn::Equals": [{"Ref": MAIL_IDENTITY}, ""]}]},
                       MAIL_FROM_SET: {"Fn::Not": [{"Fn::Equals": [{"Ref": MAIL_FROM}, ""]}]}},
        "Resources": {POOL: pool, CLIENT: client},
        "Outputs": {  # with Chalice's EndpointURL, what `make frontend-config` turns into a .env
            "LearnerPoolArn": {"Value": pool_arn()},
            "LearnerPoolId": {"Value": pool_id()},
            "LearnerPoolClientId": {"Value": {"Ref": CLIENT}},
            "Region": {"Value": {"Ref": "AWS::Region"}},
        },
    }


def security_definitions() -> dict:
    """The API's authorizer, as `chalice package` writes it, on this stack's pool."""
    return {AUTHORIZER_NAME: {"x-amazon-apigateway-authorizer": {"providerARNs": [pool_arn()]}}}
