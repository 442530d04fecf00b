import Foundation

/// A person who signs in with email and password (self-hosted use), or is known from an OIDC token.
public struct User: Sendable, Hashable, Identifiable {
    /// Row id; the `sub` of the access tokens issued to the user.
    public var id: UUID
    /// Unique, stored lowercased.
    public var email: String
    /// Display name.
    public var name: String
    /// bcrypt hash of the password; the password itself is never stored.
    public var passwordHash: String
    /// May manage the whole platform.
    public var isPlatformAdmin: Bool
    /// When the account was created.
    public var createdAt: Timestamp

    /// Creates a user value.
    public init(
        id: UUID, email: String, name: String, passwordHash: String, isPlatformAdmin: Bool, createdAt: Timestamp
    ) {
        self.id = id
        self.email = email
        self.name = name
        self.passwordHash = passwordHash
        self.isPlatformAdmin = isPlatformAdmin
        self.createdAt = createdAt
    }
}

/// A user's role in one tenant.
public struct Membership: Sendable, Hashable {
    /// The user.
    public var userID: UUID
    /// The tenant.
    public var tenantID: TenantID
    /// `admin`, `member` or `viewer`.
    public var role: Role

    /// Creates a membership.
    public init(userID: UUID, tenantID: TenantID, role: Role) {
        self.userID = userID
        self.tenantID = tenantID
        self.role = role
    }
}

/// A rotating refresh token: each use replaces it with a new one of the same family; using a
/// replaced one again means it leaked, and the whole family is revoked.
public struct RefreshToken: Sendable, Hashable {
    /// Row id.
    public var id: UUID
    /// All tokens descending from one sign-in.
    public var familyID: UUID
    /// Whose.
    public var userID: UUID
    /// For which tenant.
    public var tenantID: TenantID
    /// SHA-256 of the token text; the text is never stored.
    public var tokenHash: String
    /// Issued.
    public var createdAt: Timestamp
    /// Unusable after.
    public var expiresAt: Timestamp

    /// Creates a token record.
    public init(
        id: UUID,
        familyID: UUID,
        userID: UUID,
        tenantID: TenantID,
        tokenHash: String,
        createdAt: Timestamp,
        expiresAt: Timestamp
    ) {
        self.id = id
        self.familyID = familyID
        self.userID = userID
        self.tenantID = tenantID
        self.tokenHash = tokenHash
        self.createdAt = createdAt
        self.expiresAt = expiresAt
    }
}

/// Rules for user fields.
public enum UserValidation {
    /// Field errors for an email address (a plausibility check; delivery is not verified).
    public static func emailErrors(_ email: String, pointer: String = "/email") -> [FieldError] {
        let parts = email.split(separator: "@", omittingEmptySubsequences: false)
        let valid =
            (3...254).contains(email.utf8.count) && parts.count == 2 && !parts[0].isEmpty && parts[1].contains(".")
            && !email.contains(where: { $0.isWhitespace || $0.isNewline })
        return valid ? [] : [FieldError(pointer: pointer, message: "must be an email address")]
    }

    /// Field errors for a new password: 12 to 72 bytes (bcrypt's limit).
    public static func passwordErrors(_ password: String, pointer: String = "/password") -> [FieldError] {
        (12...72).contains(password.utf8.count)
            ? [] : [FieldError(pointer: pointer, message: "must be 12 to 72 bytes long")]
    }
}
