package sandbox

import "sort"

func vaultArn(region, name string) string {
	return "arn:aws:backup:" + region + ":" + accountID + ":backup-vault:" + name
}

func (e *estate) vault(region, name string) *vault {
	for _, v := range e.st.Vaults {
		if v.Region == region && v.Name == name {
			return v
		}
	}
	return nil
}

func (s *backupService) vaultJSON(v *vault) map[string]any {
	n := 0
	for _, rp := range s.e.st.RecoveryPoints {
		if rp.Vault == v.Name && rp.Region == v.Region {
			n++
		}
	}
	return map[string]any{"BackupVaultName": v.Name, "BackupVaultArn": vaultArn(v.Region, v.Name),
		"CreationDate": epochPtr(v.Created), "CreatorRequestId": v.CreatorRequestID,
		"EncryptionKeyArn":  "arn:aws:kms:" + v.Region + ":" + accountID + ":key/" + uuidFrom("kms/"+v.Name),
		"EncryptionKeyType": "AWS_OWNED_KMS_KEY", "NumberOfRecoveryPoints": n, "Locked": false,
		"VaultState": "AVAILABLE", "VaultType": "BACKUP_VAULT"}
}

func validVaultName(n string) bool {
	if len(n) < 2 || len(n) > 50 {
		return false
	}
	for _, r := range n {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_') {
			return false
		}
	}
	return true
}

func (s *backupService) createVault(r *backupReq) (any, *apiError) {
	name := r.labels[0]
	if !validVaultName(name) {
		return nil, backupErr("InvalidParameterValueException", "Backup vault name %q is invalid: 2-50 letters, digits, hyphens and underscores", name)
	}
	if s.e.vault(r.c.Region, name) != nil {
		return nil, backupErr("AlreadyExistsException", "Backup vault with the same name already exists")
	}
	v := &vault{Name: name, Region: r.c.Region, CreatorRequestID: r.str("CreatorRequestId"), Created: r.c.Now}
	s.e.st.Vaults = append(s.e.st.Vaults, v)
	return map[string]any{"BackupVaultName": name, "BackupVaultArn": vaultArn(v.Region, name), "CreationDate": epochPtr(v.Created)}, nil
}

func (s *backupService) listVaults(r *backupReq) (any, *apiError) {
	max, off, ae := backupPage(r, "ListBackupVaults")
	if ae != nil {
		return nil, ae
	}
	var sel []*vault
	for _, v := range s.e.st.Vaults {
		if v.Region == r.c.Region {
			sel = append(sel, v)
		}
	}
	sort.Slice(sel, func(i, j int) bool { return sel[i].Name < sel[j].Name })
	lo, hi, next := page("ListBackupVaults", len(sel), off, max)
	list := []any{}
	for _, v := range sel[lo:hi] {
		list = append(list, s.vaultJSON(v))
	}
	return withNext(map[string]any{"BackupVaultList": list}, next), nil
}

func (s *backupService) describeVault(r *backupReq) (any, *apiError) {
	v := s.e.vault(r.c.Region, r.labels[0])
	if v == nil {
		return nil, notFound("Backup vault %s does not exist", r.labels[0])
	}
	return s.vaultJSON(v), nil
}
