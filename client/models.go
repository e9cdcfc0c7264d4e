package client

import (
	"github.com/oapi-codegen/nullable"

	"github.com/kratosadmin/sdk/gen"
)

// The API's models, generated from api/kratos-admin.yaml into gen/ and
// re-exported here so that callers import one package. Free-form JSON
// (traits, metadata, credential configuration, schemas) is json.RawMessage
// and keeps its bytes; see DecodeTraits and DecodeJSON to read it into your
// own types.

// Identities.
type (
	Identity                  = gen.Identity
	IdentityCredentials       = gen.IdentityCredentials
	IdentityCredentialsType   = gen.IdentityCredentialsType
	IdentityState             = gen.IdentityState
	VerifiableIdentityAddress = gen.VerifiableIdentityAddress
	VerifiableAddressVia      = gen.VerifiableIdentityAddressVia
	RecoveryIdentityAddress   = gen.RecoveryIdentityAddress
	CreateIdentityBody        = gen.CreateIdentityBody
	UpdateIdentityBody        = gen.UpdateIdentityBody
	JSONPatch                 = gen.JSONPatch
	JSONPatchOp               = gen.JSONPatchOp
	IdentityPatch             = gen.IdentityPatch
	ReadConsistencyLevel      = gen.ReadConsistencyLevel

	ListIdentitiesParams            = gen.ListIdentitiesParams
	GetIdentityParams               = gen.GetIdentityParams
	GetIdentityByExternalIDParams   = gen.GetIdentityByExternalIDParams
	DeleteIdentityCredentialsParams = gen.DeleteIdentityCredentialsParams
	ListIdentitySessionsParams      = gen.ListIdentitySessionsParams
)

// Credentials to import with an identity.
type (
	IdentityWithCredentials       = gen.IdentityWithCredentials
	ImportPasswordCredentials     = gen.ImportPasswordCredentials
	ImportPasswordConfig          = gen.ImportPasswordConfig
	ImportOIDCCredentials         = gen.ImportOIDCCredentials
	ImportOIDCConfig              = gen.ImportOIDCConfig
	ImportOIDCProvider            = gen.ImportOIDCProvider
	ImportSAMLCredentials         = gen.ImportSAMLCredentials
	ImportSAMLConfig              = gen.ImportSAMLConfig
	ImportSAMLProvider            = gen.ImportSAMLProvider
	ImportTOTPCredentials         = gen.ImportTOTPCredentials
	ImportTOTPConfig              = gen.ImportTOTPConfig
	ImportLookupSecretCredentials = gen.ImportLookupSecretCredentials
	ImportLookupSecretConfig      = gen.ImportLookupSecretConfig
	ImportLookupSecretCode        = gen.ImportLookupSecretCode
	ImportWebAuthnCredentials     = gen.ImportWebAuthnCredentials
	ImportPasskeyCredentials      = gen.ImportPasskeyCredentials
	ImportWebAuthnConfig          = gen.ImportWebAuthnConfig
	ImportWebAuthnCredential      = gen.ImportWebAuthnCredential
	ImportWebAuthnAuthenticator   = gen.ImportWebAuthnAuthenticator
	ImportWebAuthnFlags           = gen.ImportWebAuthnFlags
	ImportWebAuthnAttestation     = gen.ImportWebAuthnAttestation
)

// Sessions.
type (
	Session                     = gen.Session
	SessionDevice               = gen.SessionDevice
	SessionAuthenticationMethod = gen.SessionAuthenticationMethod
	AuthenticatorAssuranceLevel = gen.AuthenticatorAssuranceLevel
	SessionExpandable           = gen.SessionExpandable
	ListSessionsParams          = gen.ListSessionsParams
	GetSessionParams            = gen.GetSessionParams
)

// Recovery, schemas and errors.
type (
	CreateRecoveryCodeForIdentityBody   = gen.CreateRecoveryCodeForIdentityBody
	RecoveryFlowType                    = gen.CreateRecoveryCodeForIdentityBodyFlowType
	RecoveryCodeForIdentity             = gen.RecoveryCodeForIdentity
	CreateRecoveryLinkForIdentityBody   = gen.CreateRecoveryLinkForIdentityBody
	CreateRecoveryLinkForIdentityParams = gen.CreateRecoveryLinkForIdentityParams
	RecoveryLinkForIdentity             = gen.RecoveryLinkForIdentity
	IdentitySchemaContainer             = gen.IdentitySchemaContainer
	ListIdentitySchemasParams           = gen.ListIdentitySchemasParams
	GenericError                        = gen.GenericError
)

// Nullable is a value that can be absent, JSON null, or set
// (github.com/oapi-codegen/nullable): Identity.StateChangedAt,
// VerifiableIdentityAddress.VerifiedAt and the organization ids use it, so
// that null and absent stay apart.
type Nullable[T any] = nullable.Nullable[T]

// NewNullable returns a Nullable set to v.
func NewNullable[T any](v T) Nullable[T] { return nullable.NewNullableWithValue(v) }

// NewNull returns a Nullable that is explicitly null.
func NewNull[T any]() Nullable[T] { return nullable.NewNullNullable[T]() }

// Identity states.
const (
	IdentityStateActive   = gen.IdentityStateActive
	IdentityStateInactive = gen.IdentityStateInactive
)

// Credential types.
const (
	CredentialsTypePassword     = gen.IdentityCredentialsTypePassword
	CredentialsTypeOIDC         = gen.IdentityCredentialsTypeOIDC
	CredentialsTypeTOTP         = gen.IdentityCredentialsTypeTOTP
	CredentialsTypeLookupSecret = gen.IdentityCredentialsTypeLookupSecret
	CredentialsTypeWebAuthn     = gen.IdentityCredentialsTypeWebAuthn
	CredentialsTypeCode         = gen.IdentityCredentialsTypeCode
	CredentialsTypePasskey      = gen.IdentityCredentialsTypePasskey
	CredentialsTypeProfile      = gen.IdentityCredentialsTypeProfile
	CredentialsTypeSAML         = gen.IdentityCredentialsTypeSAML
	CredentialsTypeLinkRecovery = gen.IdentityCredentialsTypeLinkRecovery
	CredentialsTypeCodeRecovery = gen.IdentityCredentialsTypeCodeRecovery
)

// Address channels.
const (
	VerifiableAddressViaEmail = gen.VerifiableIdentityAddressViaEmail
	VerifiableAddressViaSMS   = gen.VerifiableIdentityAddressViaSMS
)

// JSON Patch operations the server applies.
const (
	JSONPatchOpAdd     = gen.JSONPatchOpAdd
	JSONPatchOpRemove  = gen.JSONPatchOpRemove
	JSONPatchOpReplace = gen.JSONPatchOpReplace
)

// Read consistency levels (Ory Network).
const (
	ReadConsistencyLevelUnset    = gen.ReadConsistencyLevelUnset
	ReadConsistencyLevelStrong   = gen.ReadConsistencyLevelStrong
	ReadConsistencyLevelEventual = gen.ReadConsistencyLevelEventual
)

// Authenticator assurance levels.
const (
	AAL0 = gen.AuthenticatorAssuranceLevelAAL0
	AAL1 = gen.AuthenticatorAssuranceLevelAAL1
	AAL2 = gen.AuthenticatorAssuranceLevelAAL2
	AAL3 = gen.AuthenticatorAssuranceLevelAAL3
)

// Session properties to expand.
const (
	SessionExpandIdentity = gen.SessionExpandableIdentity
	SessionExpandDevices  = gen.SessionExpandableDevices
)

// Recovery flow types.
const (
	RecoveryFlowTypeBrowser = gen.CreateRecoveryCodeForIdentityBodyFlowTypeBrowser
	RecoveryFlowTypeAPI     = gen.CreateRecoveryCodeForIdentityBodyFlowTypeAPI
)
