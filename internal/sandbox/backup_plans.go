package sandbox

import "encoding/json"

func (e *estate) plan(region, id string) *backupPlan {
	for _, p := range e.st.Plans {
		if p.Region == region && p.ID == id {
			return p
		}
	}
	return nil
}

func planArn(region, id string) string {
	return "arn:aws:backup:" + region + ":" + accountID + ":backup-plan:" + id
}

func (s *backupService) createPlan(r *backupReq) (any, *apiError) {
	plan, ok := r.in["BackupPlan"].(map[string]any)
	if !ok {
		return nil, backupErr("MissingParameterValueException", "BackupPlan is required")
	}
	name, _ := plan["BackupPlanName"].(string)
	if name == "" {
		return nil, backupErr("MissingParameterValueException", "BackupPlanName is required")
	}
	rules, _ := plan["Rules"].([]any)
	if len(rules) == 0 {
		return nil, backupErr("MissingParameterValueException", "a backup plan needs at least one rule")
	}
	for _, p := range s.e.st.Plans {
		if p.Region == r.c.Region && p.Name == name {
			if creq := r.str("CreatorRequestId"); creq != "" && creq == p.CreatorRequestID {
				return s.planCreated(p), nil
			}
			return nil, backupErr("AlreadyExistsException", "Backup plan with the same name already exists")
		}
	}
	for _, ru := range rules {
		rm, _ := ru.(map[string]any)
		if rm == nil {
			return nil, backupErr("InvalidParameterValueException", "a rule is not an object")
		}
		target, _ := rm["TargetBackupVaultName"].(string)
		if s.e.vault(r.c.Region, target) == nil {
			return nil, backupErr("InvalidParameterValueException", "Backup vault %q does not exist", target)
		}
		rn, _ := rm["RuleName"].(string)
		rm["RuleId"] = uuidFrom(r.c.Region + "/" + name + "/" + rn)
	}
	b, err := json.Marshal(plan)
	if err != nil {
		return nil, backupErr("InvalidParameterValueException", "backup plan: %v", err)
	}
	p := &backupPlan{ID: s.e.newUUID(), Name: name, Region: r.c.Region, VersionID: s.e.newUUID(),
		CreatorRequestID: r.str("CreatorRequestId"), Created: r.c.Now, Plan: b}
	s.e.st.Plans = append(s.e.st.Plans, p)
	return s.planCreated(p), nil
}

func (s *backupService) planCreated(p *backupPlan) map[string]any {
	return map[string]any{"BackupPlanId": p.ID, "BackupPlanArn": planArn(p.Region, p.ID),
		"CreationDate": epochPtr(p.Created), "VersionId": p.VersionID}
}

func (s *backupService) listPlans(r *backupReq) (any, *apiError) {
	max, off, ae := backupPage(r, "ListBackupPlans")
	if ae != nil {
		return nil, ae
	}
	var sel []*backupPlan
	for _, p := range s.e.st.Plans {
		if p.Region == r.c.Region {
			sel = append(sel, p)
		}
	}
	lo, hi, next := page("ListBackupPlans", len(sel), off, max)
	list := []any{}
	for _, p := range sel[lo:hi] {
		list = append(list, map[string]any{"BackupPlanId": p.ID, "BackupPlanArn": planArn(p.Region, p.ID),
			"BackupPlanName": p.Name, "CreationDate": epochPtr(p.Created), "VersionId": p.VersionID,
			"CreatorRequestId": p.CreatorRequestID})
	}
	return withNext(map[string]any{"BackupPlansList": list}, next), nil
}

func (s *backupService) getPlan(r *backupReq) (any, *apiError) {
	p := s.e.plan(r.c.Region, r.labels[0])
	if p == nil {
		return nil, notFound("Backup plan %s does not exist", r.labels[0])
	}
	return map[string]any{"BackupPlan": json.RawMessage(p.Plan), "BackupPlanId": p.ID, "BackupPlanArn": planArn(p.Region, p.ID),
		"VersionId": p.VersionID, "CreationDate": epochPtr(p.Created), "CreatorRequestId": p.CreatorRequestID}, nil
}
