from oauth2_provider.oauth2_validators import OAuth2Validator


class SandboxValidator(OAuth2Validator):
    """The subject of every ID token is the resident's common ID, not the sandbox's user number."""

    def get_additional_claims(self, request):
        return {"sub": request.user.sample_resident.city_os_id}
